"""`policy.can_each` (a sync batch's visits checked in one query) gives what `can` gives
for each object: the same rule, asked once."""
from __future__ import annotations

from sqlalchemy import select

from fieldapp import policy
from fieldapp.extensions import db
from fieldapp.models import Cycle, SampleEntry, User

from .visit_helpers import drawn  # noqa: F401 (fixture)


def test_can_each_agrees_with_can(drawn):
    entries = list(db.session.scalars(select(SampleEntry).order_by(SampleEntry.id)))
    assert {e.village_id for e in entries} >= {drawn.villages[k].id for k in ("a1", "a2", "b1")}
    users = [db.session.get(User, drawn.users[k].id)
             for k in ("evaluator_a", "evaluator_b", "admin", "staff_a", "secretary_a")]
    for verb in ("record_visit", "record_replacement", "read_sample"):
        for user in users:
            assert policy.can_each(user, verb, entries) == [
                policy.can(user, verb, e) for e in entries], (user.role, verb)
    assert any(policy.can_each(users[0], "record_visit", entries))
    # A closed cycle: the assignment no longer reaches the sample.
    db.session.get(Cycle, drawn.cycle.id).status = "closed"
    db.session.flush()
    evaluator = users[0]
    assert policy.can_each(evaluator, "record_visit", entries) == [
        policy.can(evaluator, "record_visit", e) for e in entries]
    assert not any(policy.can_each(evaluator, "record_visit", entries))
    db.session.rollback()
