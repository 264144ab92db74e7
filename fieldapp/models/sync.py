"""The ledger of records received from phones, keyed by the client's UUID.

It is what makes sync idempotent: a replay of the same UUID with the same content is a
`duplicate`; the same UUID with different content is a conflict.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class ClientRecord(db.Model):
    __tablename__ = "client_record"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of canonical JSON
    object_id: Mapped[int | None] = mapped_column()  # id of the Visit/Replacement/CheckIn
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
