"""New households go in with one bulk write (COPY on PostgreSQL): every field stored as the
file says, and a failure after that write (here: a secretary's term in a finalised year)
still stores nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from fieldapp.models import FirstSecretary, Household, Village
from fieldapp.policy import SYSTEM
from fieldapp.services.scoring.results import finalise

from .test_roster_import import household_rows, upload, workbook


def test_new_households_are_stored_field_by_field(db, login_as, personas):
    rows = household_rows(n=5)
    response = upload(login_as("staff_a"), workbook(rows))
    assert response.status_code == 200, response.get_json()
    stored = {h.household_no: h for h in db.session.scalars(
        select(Household).join(Village).where(Village.code == "610323200001"))}
    assert len(stored) == 5
    for row in rows:
        h = stored[row[4]]
        assert (h.head_name, h.id_number, h.family_size, h.attribute, h.exit_status,
                h.exit_year, h.phone) == (row[5], row[6], 3, "general", "exited", 2019, row[11])
        assert abs(h.lat - row[12]) < 1e-9 and abs(h.lon - row[13]) < 1e-9


def test_a_failure_after_the_bulk_write_stores_nothing(db, login_as, personas):
    finalise(SYSTEM, personas.cycle, personas.counties["a"].id, accept_incomplete=True)
    before = db.session.scalar(select(func.count()).select_from(Household))
    data = workbook(household_rows(n=4), [["李书记", "13912340000", "市", "宝鸡市财政局",
                                           "610323200001", f"{personas.cycle.year}-01-01", None]])
    response = upload(login_as("staff_a"), data)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "county_finalised"
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Household)) == before
    assert db.session.scalar(select(Village.id).where(Village.code == "610323200001")) is None
    assert db.session.scalar(select(func.count()).select_from(FirstSecretary).where(
        FirstSecretary.phone == "13912340000")) == 0
