from datetime import date

import pytest

from fieldapp.domain.idcard import (
    ID_BIRTH_DATE,
    ID_CHARACTERS,
    ID_CHECKSUM,
    ID_EMPTY,
    ID_LENGTH,
    check_char,
    id_error_params,
    mask_id_number,
    validate_id_number,
)

TODAY = date(2025, 3, 1)


def test_check_char_known_values():
    # The worked example of GB 11643-1999 (11010519491231002X) and two others.
    assert check_char("11010519491231002") == "X"
    assert check_char("61030419650312123") == "8"


@pytest.mark.parametrize("good", ["11010519491231002X", "610304196503121238", "61030419780925242X"])
def test_valid_numbers(good):
    assert validate_id_number(good, today=TODAY) == (good, None)


def test_lowercase_x_and_spaces_are_normalised():
    assert validate_id_number(" 110105 19491231002x ", today=TODAY) == ("11010519491231002X", None)


@pytest.mark.parametrize(
    ("raw", "msgid"),
    [
        (None, ID_EMPTY),
        ("  ", ID_EMPTY),
        ("61030419650312123", ID_LENGTH),  # 17
        ("6103041965031212388", ID_LENGTH),  # 19
        ("610304650312123", ID_LENGTH),  # old 15-digit number
        ("61030419650312X238", ID_CHARACTERS),
        ("61030419650312123Y", ID_CHARACTERS),
        ("610304１96503121238".replace("１", "a"), ID_CHARACTERS),
        ("610304196513121238", ID_BIRTH_DATE),  # month 13
        ("610304190002291234", ID_BIRTH_DATE),  # 1900 was not a leap year
        ("610304185001011234", ID_BIRTH_DATE),  # before 1900
        ("610304196503121239", ID_CHECKSUM),
        ("610304196503121283", ID_CHECKSUM),  # swapped digits
    ],
)
def test_invalid_numbers(raw, msgid):
    assert validate_id_number(raw, today=TODAY) == (None, msgid)


def test_birth_date_in_the_future_is_rejected():
    body = "61030420250302123"
    number = body + check_char(body)
    assert validate_id_number(number, today=TODAY) == (None, ID_BIRTH_DATE)
    assert validate_id_number(number, today=date(2025, 3, 2)) == (number, None)


def test_error_params_give_the_length_without_the_number():
    assert id_error_params("61030419650312123") == {"length": 17}
    assert ID_LENGTH % id_error_params("123") == "The ID number must have 18 characters, not 3."


def test_messages_never_contain_the_number():
    for msgid in (ID_EMPTY, ID_LENGTH, ID_CHARACTERS, ID_BIRTH_DATE, ID_CHECKSUM):
        assert "%(" not in msgid or "%(length)s" in msgid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("61030219900101123X", "610302********123X"),
        ("610304196503121238", "610304********1238"),
        ("610304650312123", "610304********2123"),
        ("12345", "*****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask(raw, expected):
    assert mask_id_number(raw) == expected
