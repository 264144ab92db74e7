"""Administrative hierarchy: city -> county/district -> town -> village."""
from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import new_token


class City(db.Model):
    __tablename__ = "city"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    counties: Mapped[list["County"]] = relationship(back_populates="city", order_by="County.code")


class County(db.Model):
    """A county (县) or district (区): the unit that runs a cycle and whose staff see its data."""

    __tablename__ = "county"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    city: Mapped[City] = relationship(back_populates="counties")
    towns: Mapped[list["Town"]] = relationship(back_populates="county", order_by="Town.name")


class Town(db.Model):
    """A town (镇) or sub-district (街道办, 镇办 in the roster)."""

    __tablename__ = "town"
    __table_args__ = (UniqueConstraint("county_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # The first 9 digits of its villages' codes (统计用区划代码); None for towns made before
    # the roster import read codes (the demo's, older installs) until a roster names it.
    code: Mapped[str | None] = mapped_column(String(9), unique=True)
    county: Mapped[County] = relationship(back_populates="towns")
    villages: Mapped[list["Village"]] = relationship(back_populates="town", order_by="Village.code")


CENTRE_SOURCES = ("roster", "estimated", "staff")


class Village(db.Model):
    __tablename__ = "village"
    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    # Denormalised from town so that scoping by county is one indexed comparison;
    # kept consistent by the roster import, the only writer of villages.
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    is_poor_village: Mapped[bool] = mapped_column(Boolean, default=False)  # 贫困村
    is_weak_branch: Mapped[bool] = mapped_column(Boolean, default=False)  # 软弱涣散村
    lat: Mapped[float | None] = mapped_column(Float)  # centre, WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    # Where the centre comes from (CENTRE_SOURCES): the roster's 村 sheet (the 村委会),
    # estimated from the households' coordinates (shown as 估计), or set by staff.
    centre_source: Mapped[str | None] = mapped_column(String(20))
    radius_m: Mapped[int] = mapped_column(Integer, default=1000)  # geofence radius
    # Printed on the village's check-in poster; rotating it voids old posters.
    checkin_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)

    town: Mapped[Town] = relationship(back_populates="villages")
    county: Mapped[County] = relationship()
