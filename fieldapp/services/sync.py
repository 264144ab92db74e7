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
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from marshmallow import Schema, ValidationError
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
    object_id: int
    # Extra facts for the phone; a callable is evaluated after the batch's deferred work.
    data: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)


@dataclass
class RecordType:
    name: str
    schema: type[Schema]
    handler: Callable[[dict, SyncContext], StoreResult]
    verb: str  # what the sender must be granted (fieldapp/policy.py), e.g. "record_visit"


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


def _process(user: User, batch: dict, received_at: datetime) -> tuple[bool, list[dict]]:
    from flask_babel import gettext as _

    device_sent_at = batch.get("device_sent_at")
    work = BatchWork()
    late_data: list[tuple[dict, Callable[[], dict[str, Any]]]] = []
    results: list[dict] = []
    seen: dict[str, str] = {}
    ok = True
    for record in batch["records"]:
        uuid, rtype, payload = record["uuid"], record["type"], record["payload"]
        digest = content_hash(rtype, payload)
        if uuid in seen:  # the same record twice in one batch
            status = "duplicate" if seen[uuid] == digest else "conflict"
            results.append({"uuid": uuid, "status": status})
            ok = ok and status == "duplicate"
            continue
        seen[uuid] = digest
        # Replays only (see the module docstring): the time each record reached the server.
        rec_received = record.get("received_at", received_at)
        rec_sent = record.get("device_sent_at", device_sent_at)
        existing = db.session.get(ClientRecord, uuid)
        if existing is not None:
            if existing.content_hash == digest and existing.user_id == user.id:
                results.append({"uuid": uuid, "status": "duplicate", "id": existing.object_id})
            else:
                ok = False
                results.append({"uuid": uuid, "status": "conflict", "errors": {
                    "uuid": [_("A different record with this ID was already received.")]}})
            continue
        spec = REGISTRY.get(rtype)
        if spec is None or not policy.can(user, spec.verb):
            ok = False
            results.append({"uuid": uuid, "status": "rejected",
                            "errors": {"type": [_("This record type is not accepted from you.")]}})
            continue
        try:
            data = spec.schema().load(payload)
            stored = spec.handler(data, SyncContext(user, uuid, rec_sent, rec_received, work))
        except ValidationError as err:
            ok = False
            results.append({"uuid": uuid, "status": "rejected", "errors": flatten_messages(err.messages)})
            continue
        except RecordRejected as err:
            ok = False
            results.append({"uuid": uuid, "status": "rejected", "errors": err.errors})
            continue
        db.session.add(ClientRecord(uuid=uuid, type=rtype, user_id=user.id, content_hash=digest,
                                    object_id=stored.object_id, received_at=rec_received))
        result = {"uuid": uuid, "status": "stored", "id": stored.object_id}
        if callable(stored.data):
            late_data.append((result, stored.data))
        elif stored.data:
            result["data"] = stored.data
        results.append(result)
    if ok:
        work.run()
        for result, compute in late_data:
            result["data"] = compute()
    return ok, results


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
