"""The registry (建档立卡) households and the first secretaries."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .geography import Village

HOUSEHOLD_ATTRIBUTES = ("general", "low_income", "extreme_poor")
EXIT_STATUSES = ("not_exited", "exited")
DISPATCH_LEVELS = ("central", "provincial", "city", "county")
SECRETARY_STATUSES = ("active", "recalled", "expired", "extended")


class Household(db.Model):
    """A registered poor household (建档立卡贫困户). Personal data: keep it minimal."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("village_id", "household_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    household_no: Mapped[str] = mapped_column(String(40))  # 户编号
    head_name: Mapped[str] = mapped_column(String(50))  # 户主姓名
    id_number: Mapped[str | None] = mapped_column(String(18))  # 身份证号, only if given
    family_size: Mapped[int] = mapped_column(Integer)
    attribute: Mapped[str] = mapped_column(String(20))  # HOUSEHOLD_ATTRIBUTES
    exit_status: Mapped[str] = mapped_column(String(20))  # EXIT_STATUSES
    exit_year: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    village: Mapped[Village] = relationship()


class FirstSecretary(db.Model):
    __tablename__ = "first_secretary"
    __table_args__ = (UniqueConstraint("phone", "village_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    dispatch_level: Mapped[str] = mapped_column(String(20))  # DISPATCH_LEVELS
    dispatch_unit: Mapped[str] = mapped_column(String(100))  # 选派单位
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")  # SECRETARY_STATUSES

    village: Mapped[Village] = relationship()
