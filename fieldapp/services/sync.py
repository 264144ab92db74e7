"""Exactly-once sync of records created on phones.

A batch is one transaction: every record is stored (or recognised as a duplicate), or
nothing is. Idempotency rests on the client's UUID, kept in the `client_record` ledger
with a hash of the record's content:
- same UUID, same content  -> `duplicate` (a replay after a lost response);
- same UUID, other content -> `conflict` (never overwrite what a phone sent earlier).

A tool that replays history (the demo builder) sends one batch per user with each
record's own `received_at` and `device_sent_at` (the API's record schema refuses those
keys, so phones cannot): the batch's deferred work (re-flagging a series) then runs once.

Record types register themselves (`register`). A handler must validate completely before
it changes anything, raising `RecordRejected` with field errors; that is what lets the
batch go on checking the other records and then roll back as a whole.

Per batch, not per record (issue 13): the ledger is read for every UUID of the batch in one
query and written with one bulk insert; a record type may `prepare` (load in one query
each what all its records need) before its handler sees the records one by one, and may
defer its own writes to the batch's end (`BatchWork.once`), returning the id it will get
as a callable. The ledger rows are written after that deferred work.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from .. import policy
from ..errors import AppError, flatten_messages
from ..extensions import db
from ..models import ClientRecord, User, utcnow


class RecordRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class BatchWork:
    """Work that handlers defer to the end of the batch, done once however many records
    asked for it (e.g. re-flagging an evaluator's visits once, not once per visit)."""
    state: dict[Any, Any] = field(default_factory=dict)
    tasks: dict[Any, Callable[[], None]] = field(default_factory=dict)

    def once(self, key: Any, task: Callable[[], None]) -> None:
        self.tasks.setdefault(key, task)

    def run(self) -> None:
        for task in self.tasks.values():
            task()


@dataclass
class SyncContext:
    """What a handler knows about the batch around its record."""
    user: User
    uuid: str
    device_sent_at: datetime | None
    received_at: datetime
    batch: BatchWork = field(default_factory=BatchWork)


@dataclass
class StoreResult:
    # A callable when the handler deferred its insert to the end of the batch.
    object_id: int | Callable[[], int]
    # Extra facts for the phone; a callable is evaluated after the batch's deferred work.
    data: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)


@dataclass
class RecordType:
    name: str
    schema: type[Schema]
    handler: Callable[[dict, SyncContext], StoreResult]
    verb: str  # what the sender must be granted (fieldapp/policy.py), e.g. "record_visit"
    # Called once per batch with every valid payload of this type (in batch order) before
    # the handler runs: load what the records need in a query or two, into `work.state`.
    prepare: Callable[[User, list[dict], BatchWork], None] | None = None


REGISTRY: dict[str, RecordType] = {}

# The services that own a record type; each calls `register` when imported.
RECORD_TYPE_MODULES = ("visits", "replacements", "checkins")


def register(record_type: RecordType) -> None:
    REGISTRY[record_type.name] = record_type


def load_record_types() -> None:
    """Import every record type's service so the registry is complete at start-up."""
    from importlib import import_module

    for name in RECORD_TYPE_MODULES:
        import_module(f"{__package__}.{name}")


def content_hash(record_type: str, payload: Any) -> str:
    canonical = json.dumps({"type": record_type, "payload": payload}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    """A record that passed the ledger, the policy and its schema: the handler's turn."""
    index: int
    uuid: str
    type: RecordType
    digest: str
    data: dict
    sent: datetime | None
    received: datetime


def _ledger(uuids: list[str]) -> dict[str, ClientRecord]:
    """The ledger entries of a batch's UUIDs (one query)."""
    if not uuids:
        return {}
    return {r.uuid: r for r in db.session.scalars(select(ClientRecord).where(
        ClientRecord.uuid.in_(uuids)))}


def _screen(user: User, batch: dict, received_at: datetime
            ) -> tuple[bool, list[dict], list[_Pending]]:
    """Replays, conflicts, record types and payload schemas, before any handler runs."""
    device_sent_at = batch.get("device_sent_at")
    results: list[dict] = []
    pending: list[_Pending] = []
    seen: dict[str, str] = {}
    schemas: dict[str, Schema] = {}
    ledger = _ledger(list({r["uuid"] for r in batch["records"]}))
    ok = True
    for record in batch["records"]:
        uuid, rtype, payload = record["uuid"], record["type"], record["payload"]
        digest = content_hash(rtype, payload)
        result: dict[str, Any] = {"uuid": uuid}
        results.append(result)
        if uuid in seen:  # the same record twice in one batch
            result["status"] = "duplicate" if seen[uuid] == digest else "conflict"
            ok = ok and result["status"] == "duplicate"
            continue
        seen[uuid] = digest
        existing = ledger.get(uuid)
        if existing is not None:
            ok = _known(existing, digest, user, result) and ok
            continue
        spec = REGISTRY.get(rtype)
        if spec is None or not policy.can(user, spec.verb):
            ok = False
            result.update(status="rejected",
                          errors={"type": [_("This record type is not accepted from you.")]})
            continue
        if rtype not in schemas:
            schemas[rtype] = spec.schema()
        try:
            data = schemas[rtype].load(payload)
        except ValidationError as err:
            ok = False
            result.update(status="rejected", errors=flatten_messages(err.messages))
            continue
        # Replays only (see the module docstring): the time each record reached the server.
        pending.append(_Pending(len(results) - 1, uuid, spec, digest, data,
                                record.get("device_sent_at", device_sent_at),
                                record.get("received_at", received_at)))
    return ok, results, pending


def _known(existing: ClientRecord, digest: str, user: User, result: dict) -> bool:
    """A UUID already in the ledger: `duplicate` (True) or `conflict` (False)."""
    if existing.content_hash == digest and existing.user_id == user.id:
        result.update(status="duplicate", id=existing.object_id)
        return True
    result.update(status="conflict", errors={
        "uuid": [_("A different record with this ID was already received.")]})
    return False


def _prepare(user: User, pending: list[_Pending], work: BatchWork,
             results: list[dict]) -> tuple[bool, list[_Pending]]:
    """Each record type's `prepare`, then the ledger once more when one ran: a prepare
    may have waited for rows locked by a concurrent request (the same batch sent twice),
    whose records are now in the ledger and are duplicates, not errors."""
    by_type: dict[str, list[_Pending]] = {}
    for p in pending:
        by_type.setdefault(p.type.name, []).append(p)
    prepared = [records for records in by_type.values() if records[0].type.prepare is not None]
    for records in prepared:
        records[0].type.prepare(user, [p.data for p in records], work)
    if not prepared:
        return True, pending
    ledger = _ledger([p.uuid for p in pending])
    ok = all([_known(ledger[p.uuid], p.digest, user, results[p.index])
              for p in pending if p.uuid in ledger])
    return ok, [p for p in pending if p.uuid not in ledger]


def _process(user: User, batch: dict, received_at: datetime) -> tuple[bool, list[dict]]:
    ok, results, pending = _screen(user, batch, received_at)
    work = BatchWork()
    still_ok, pending = _prepare(user, pending, work, results)
    ok = ok and still_ok
    stored: list[tuple[_Pending, StoreResult]] = []
    for p in pending:
        try:
            outcome = p.type.handler(p.data, SyncContext(user, p.uuid, p.sent, p.received, work))
        except ValidationError as err:
            ok = False
            results[p.index].update(status="rejected", errors=flatten_messages(err.messages))
            continue
        except RecordRejected as err:
            ok = False
            results[p.index].update(status="rejected", errors=err.errors)
            continue
        stored.append((p, outcome))
        results[p.index].update(status="stored")
    if ok:
        _finish(user, work, stored, results)
    return ok, results


def _finish(user: User, work: BatchWork, stored: list[tuple[_Pending, StoreResult]],
            results: list[dict]) -> None:
    """The deferred writes, then the ledger in one insert, then what the phones are told."""
    work.run()
    rows = []
    for p, outcome in stored:
        object_id = outcome.object_id() if callable(outcome.object_id) else outcome.object_id
        results[p.index]["id"] = object_id
        rows.append({"uuid": p.uuid, "type": p.type.name, "user_id": user.id,
                     "content_hash": p.digest, "object_id": object_id, "received_at": p.received})
        data = outcome.data() if callable(outcome.data) else outcome.data
        if data:
            results[p.index]["data"] = data
    if rows:
        db.session.execute(insert(ClientRecord), rows)


# A batch that lost a race is replayed from the start; the replay sees the winner's rows
# (its UUIDs become `duplicate`). More than two racers are rare: a phone resending after a
# timeout, plus perhaps a second tab.
RACE_RETRIES = 5


def _lost_a_race(err: Exception) -> bool:
    """An error that a replay resolves: a unique index taken by a concurrent transaction,
    SQLite's single writer being busy, or PostgreSQL's deadlock/serialization aborts."""
    if isinstance(err, IntegrityError):
        return True
    orig = getattr(err, "orig", None)
    if getattr(orig, "sqlstate", None) in ("40001", "40P01"):
        return True
    return "database is locked" in str(orig or err)


def sync_batch(user: User, batch: dict, *, received_at: datetime | None = None) -> dict:
    """Store a batch all-or-nothing; raise `sync_batch_rejected` (422) listing why.

    `received_at` is now, except when a tool replays history (the demo builder).
    """
    for attempt in range(RACE_RETRIES):
        try:
            ok, results = _process(user, batch, received_at or utcnow())
            if ok:
                db.session.commit()
        except (IntegrityError, OperationalError) as err:
            # Another request stored one of these UUIDs (or took the same reserve) at the
            # same moment, in a handler's flush or at commit: start again.
            db.session.rollback()
            if attempt == RACE_RETRIES - 1 or not _lost_a_race(err):
                raise
            time.sleep(0.02 * (attempt + 1) + random.random() * 0.02)
            continue
        if not ok:
            db.session.rollback()
            for result in results:
                if result["status"] in ("stored", "duplicate"):
                    # Valid, but not stored because the batch was refused: send again.
                    result["status"] = "pending"
                    result.pop("id", None)
                    result.pop("data", None)
            raise AppError("sync_batch_rejected",
                           extra={"results": results, "server_time": utcnow().isoformat()})
        return {"results": results, "server_time": utcnow()}
    raise AssertionError("unreachable")
