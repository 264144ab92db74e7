"""Where a roster's villages are: city, county and town from the 村代码 itself.

One installation serves one city. Its City row is the truth once it exists; on a fresh
install the first roster import (or `fieldapp user create --county CODE`) creates it from
the shipped division codes (fieldapp/data/divisions.csv), together with the counties its
villages name. Towns are matched by their 9-digit code (or, for towns made before codes
were read, by name, which then gets the code).

Every row of every kind is checked here against the code: unknown county, another city,
a 县区 or 镇办 that disagrees with the code, and the uploader's own county (county staff
import only their county; admins and the command line anywhere in the city).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .. import policy
from ..domain import N_
from ..domain import divisions
from ..domain import roster_file as rf
from ..domain.roster_template import DEFAULT_PLACE, TemplatePlace
from ..extensions import db
from ..models import City, County, Town, User, Village

UNKNOWN_COUNTY_CODE = N_(
    "Village code %(code)s: %(county)s is not a county or district in the official division "
    "codes (%(source)s).")
OTHER_CITY = N_(
    "Village code %(code)s is in %(city)s; this installation serves %(ours)s.")
COUNTY_MISMATCH = N_("Village code %(code)s is in %(official)s, not %(given)s.")
NOT_YOUR_COUNTY = N_(
    "Village code %(code)s is in %(county)s: you can only import your own county's roster.")
TOWN_MISMATCH = N_("Town code %(code)s is %(known)s, not %(given)s.")
TOWN_CODE_MISMATCH = N_("%(town)s already has town code %(known)s, not %(code)s: check the 村代码.")
VILLAGE_IN_OTHER_COUNTY = N_(
    "Village code %(code)s already belongs to %(county)s; a village cannot move between counties.")
VILLAGE_NAME_MISMATCH = N_("Village code %(code)s is %(known)s, not %(given)s.")
UNKNOWN_VILLAGE = N_("Village code %(code)s is neither in this import nor in the database.")


@dataclass
class RowRef:
    """One roster row that names a village, whatever its table."""
    file: str
    sheet: str | None
    row: int
    village_code: str
    county: str | None = None  # 县区 as given (households)
    township: str | None = None  # 镇办 as given (households)
    name: str | None = None  # 村名 as given (households, 村 sheet)


@dataclass
class PlaceError:
    ref: RowRef
    column: str
    msgid: str
    params: dict[str, Any]


@dataclass
class Places:
    """What the import will use or create; `errors` lists every bad row."""
    city: City | None = None
    new_city: divisions.Division | None = None
    counties: dict[str, County] = field(default_factory=dict)  # code6 -> existing
    new_counties: dict[str, divisions.Division] = field(default_factory=dict)
    towns: dict[str, Town] = field(default_factory=dict)  # code9 -> existing (by code or name)
    errors: list[PlaceError] = field(default_factory=list)

    def county_name(self, code6: str) -> str:
        if code6 in self.counties:
            return self.counties[code6].name
        return self.new_counties[code6].name


def row_refs(parsed: rf.RosterParseResult) -> list[RowRef]:
    refs = [RowRef(h.file, h.sheet, h.row, h.village_code, h.county, h.township, h.village_name)
            for h in parsed.households]
    refs += [RowRef(s.file, s.sheet, s.row, s.village_code) for s in parsed.secretaries]
    refs += [RowRef(c.file, c.sheet, c.row, c.code, name=c.name) for c in parsed.centres]
    return refs


def install_city() -> City | None:
    return db.session.scalar(select(City).order_by(City.id).limit(1))


def resolve(actor: User, refs: list[RowRef], villages: dict[str, Village],
            import_names: dict[str, str]) -> Places:
    """Check every row's place; `villages` are the existing ones by code and
    `import_names` the village names the households table gives, by code."""
    places = Places(city=install_city())
    codes6 = {r.village_code[:6] for r in refs}
    if codes6:
        places.counties = {c.code: c for c in db.session.scalars(
            select(County).where(County.code.in_(codes6)))}
        towns = db.session.scalars(select(Town).join(County).where(County.code.in_(codes6))).all()
        by_code = {t.code: t for t in towns if t.code}
        by_name = {(t.county.code, t.name): t for t in towns}
    else:
        by_code, by_name = {}, {}
    ours = _city_of_install(places, refs)
    for ref in refs:
        error = (_county_error(places, ref, ours) or _scope_error(actor, places, ref)
                 or _village_error(ref, villages, import_names)
                 or _town_error(places, ref, by_code, by_name))
        if error is not None:
            places.errors.append(error)
    return places


def _city_of_install(places: Places, refs: list[RowRef]) -> divisions.Division | None:
    """The install's city; on a fresh install the one most of the roster's codes name."""
    if places.city is not None:
        return divisions.Division(places.city.code, places.city.name, None, None)
    counts: dict[str, int] = {}
    found: dict[str, divisions.Division] = {}
    for ref in refs:
        city = divisions.city(ref.village_code[:6]) if divisions.county(ref.village_code[:6]) else None
        if city is not None:
            counts[city.code] = counts.get(city.code, 0) + 1
            found[city.code] = city
    if not counts:
        return None
    places.new_city = found[max(sorted(counts), key=lambda c: counts[c])]
    return places.new_city


def _error(ref: RowRef, column: str, msgid: str, **params: Any) -> PlaceError:
    return PlaceError(ref, column, msgid, params)


def _county_error(places: Places, ref: RowRef, ours: divisions.Division | None) -> PlaceError | None:
    code6 = ref.village_code[:6]
    county = places.counties.get(code6)
    if county is not None:
        official_name, city_code = county.name, county.city.code
    else:
        official = divisions.county(code6)
        if official is None:
            return _error(ref, "村代码", UNKNOWN_COUNTY_CODE, code=ref.village_code, county=code6,
                          source=divisions.source())
        city = divisions.city(code6)
        official_name, city_code = official.name, city.code if city else ""
        if ours is not None and city_code == ours.code:
            places.new_counties.setdefault(code6, official)
    if ours is not None and city_code != ours.code:
        other = divisions.lookup(city_code)
        return _error(ref, "村代码", OTHER_CITY, code=ref.village_code,
                      city=other.name if other else city_code, ours=ours.name)
    if ref.county is not None and not (divisions.names_match(ref.county, official_name)
                                       or ref.county == code6):
        return _error(ref, "县区", COUNTY_MISMATCH, code=ref.village_code,
                      official=official_name, given=ref.county)
    return None


def _scope_error(actor: User, places: Places, ref: RowRef) -> PlaceError | None:
    """A row outside the importer's reach (policy `import_roster`; a county the install
    does not have yet is within an admin's reach only)."""
    code6 = ref.village_code[:6]
    county = places.counties.get(code6)
    if policy.can(actor, "import_roster", county if county is not None else policy.CITY):
        return None
    return _error(ref, "村代码", NOT_YOUR_COUNTY, code=ref.village_code,
                  county=places.county_name(code6))


def _village_error(ref: RowRef, villages: dict[str, Village],
                   import_names: dict[str, str]) -> PlaceError | None:
    village = villages.get(ref.village_code)
    if village is not None and village.county.code != ref.village_code[:6]:
        return _error(ref, "村代码", VILLAGE_IN_OTHER_COUNTY, code=ref.village_code,
                      county=village.county.name)
    known = import_names.get(ref.village_code) or (village.name if village else None)
    if known is None:
        return _error(ref, "村代码", UNKNOWN_VILLAGE, code=ref.village_code)
    if ref.name is not None and ref.name != known:
        return _error(ref, "村名", VILLAGE_NAME_MISMATCH, code=ref.village_code, known=known,
                      given=ref.name)
    return None


def _town_error(places: Places, ref: RowRef, by_code: dict[str, Town],
                by_name: dict[tuple[str, str], Town]) -> PlaceError | None:
    if ref.township is None:
        return None
    code9 = ref.village_code[:9]
    town = by_code.get(code9)
    if town is not None:
        if town.name != ref.township:
            return _error(ref, "镇办", TOWN_MISMATCH, code=code9, known=town.name,
                          given=ref.township)
        places.towns[code9] = town
        return None
    town = by_name.get((code9[:6], ref.township))
    if town is not None:
        if town.code and town.code != code9:
            return _error(ref, "镇办", TOWN_CODE_MISMATCH, town=ref.township, known=town.code,
                          code=code9)
        places.towns[code9] = town
    return None


def create_places(places: Places) -> tuple[int, int]:
    """Create the city and the counties the import needs; returns (cities, counties)."""
    cities = 0
    if places.city is None and places.new_city is not None:
        places.city = City(code=places.new_city.code, name=places.new_city.name)
        db.session.add(places.city)
        db.session.flush()
        cities = 1
    for code6, official in sorted(places.new_counties.items()):
        lat, lon = official.lat, official.lon
        if lat is None:
            city = divisions.city(code6)
            lat, lon = (city.lat, city.lon) if city else (None, None)
        county = County(city_id=places.city.id, code=code6, name=official.name, lat=lat, lon=lon)
        db.session.add(county)
        places.counties[code6] = county
    db.session.flush()
    return cities, len(places.new_counties)


def ensure_county(code6: str) -> County | None:
    """The county with this code, created from the official codes when the install has none
    yet and it belongs to the install's city (the trusted command line uses this)."""
    county = db.session.scalar(select(County).where(County.code == code6))
    if county is not None or divisions.county(code6) is None:
        return county
    city = install_city()
    official_city = divisions.city(code6)
    if official_city is None or (city is not None and city.code != official_city.code):
        return None
    places = Places(city=city, new_city=None if city else official_city,
                    new_counties={code6: divisions.county(code6)})
    create_places(places)
    return places.counties[code6]


def template_place(viewer: Any, county: County | None = None):
    """Where the roster template's examples are set: the given county, else the viewer's
    own (a city-wide importer's: the install's first county; anonymous: none), else the
    default example place."""
    if county is None and getattr(viewer, "county_id", None) is not None:
        county = db.session.get(County, viewer.county_id)
    elif county is None and policy.can(viewer, "import_roster", policy.CITY):
        county = db.session.scalar(select(County).order_by(County.code).limit(1))
    if county is None:
        return DEFAULT_PLACE
    town = db.session.scalar(select(Town).where(Town.county_id == county.id)
                             .order_by(Town.code.is_(None), Town.code, Town.name).limit(1))
    town_name = town.name if town is not None else county.name[:-1] + "镇"
    town_code = town.code if town is not None and town.code else county.code + "100"
    official = divisions.county(county.code)
    lat = county.lat if county.lat is not None else (official.lat if official else None)
    lon = county.lon if county.lon is not None else (official.lon if official else None)
    if lat is None or lon is None:
        lat, lon = DEFAULT_PLACE.lat, DEFAULT_PLACE.lon
    return TemplatePlace(county.name, county.code, town_name, town_code, lat, lon)
