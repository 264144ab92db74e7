from datetime import date, datetime

import pytest

from fieldapp.domain.text import (
    clean_value,
    normalise_cell,
    parse_date,
    parse_float,
    parse_int,
    parse_year,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\u3000\u00a0\u200b", None),
        ("１２３", "123"),
        ("ＡＢｃ－１", "ABc-1"),
        ("\u3000张三\u3000", "张三"),
        ("\ufeff6103\u200b04", "610304"),  # BOM and zero-width space vanish everywhere
        ("\u00a0 34.5 \t\n", "34.5"),
        ("（必填）", "(必填)"),
        ("王\u3000五", "王 五"),
        (3, "3"),
        (3.0, "3"),
        (3.25, "3.25"),
        (True, "1"),
        (datetime(2024, 1, 5), "2024-01-05"),
        (datetime(2024, 1, 5, 8, 30), "2024-01-05 08:30:00"),
        (date(2024, 1, 5), "2024-01-05"),
    ],
)
def test_normalise_cell(raw, expected):
    assert normalise_cell(raw) == expected


def test_normalise_keeps_chinese_punctuation_outside_the_ascii_block():
    assert normalise_cell("李·明。") == "李·明。"


def test_clean_value_keeps_typed_cells():
    stamp = datetime(2024, 1, 5)
    assert clean_value(stamp) is stamp
    assert clean_value(3.5) == 3.5
    assert clean_value(" ３ ") == "3"
    assert clean_value("\u3000") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), (3, 3), (3.0, 3), ("3", 3), ("３", 3), (" 3.0 ", 3),
     ("3.00", 3), ("+4", 4), ("-2", -2), ("1,234", 1234)],
)
def test_parse_int(raw, expected):
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", [3.5, "3.5", "三", "3a", True, float("nan"), "1e3"])
def test_parse_int_rejects(raw):
    with pytest.raises(ValueError):
        parse_int(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), (" ", None), (34, 34.0), (34.36, 34.36), ("34.36", 34.36),
     ("３４．３６", 34.36), ("-0.5", -0.5), (".5", 0.5), ("1e2", 100.0)],
)
def test_parse_float(raw, expected):
    assert parse_float(raw) == expected


@pytest.mark.parametrize("raw", ["nan", "inf", "34,36", "34.3.6", "北纬34", float("inf"), False])
def test_parse_float_rejects(raw):
    with pytest.raises(ValueError):
        parse_float(raw)


@pytest.mark.parametrize(
    "raw",
    ["2024-01-05", "2024/1/5", "2024.1.5", "2024年1月5日", "2024年01月05", "20240105",
     "２０２４－０１－０５", " 2024-1-5 ", "2024-01-05 00:00:00", "2024-01-05T00:00",
     datetime(2024, 1, 5, 13, 0), date(2024, 1, 5), 45296, 45296.0],
)
def test_parse_date(raw):
    assert parse_date(raw) == date(2024, 1, 5)


def test_parse_date_empty():
    assert parse_date(None) is None
    assert parse_date("  ") is None


@pytest.mark.parametrize("raw", ["2023-02-29", "2024-13-01", "5/1/2024", "明天", "2024-01", 0, -3, True])
def test_parse_date_rejects(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


@pytest.mark.parametrize(("raw", "expected"), [(2019, 2019), (2019.0, 2019), ("2019", 2019),
                                               ("２０１９", 2019), ("2019年", 2019), (None, None)])
def test_parse_year(raw, expected):
    assert parse_year(raw) == expected


def test_parse_year_rejects_text():
    with pytest.raises(ValueError):
        parse_year("去年")
