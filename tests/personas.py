"""Named personas for API tests (getodk/central-backend style).

County A (岐山县) and county B (眉县) each have a town, two villages with households
and a first secretary. Accounts: admin, staff_a, staff_b, evaluator_a (assigned to A's
first village in the open cycle), evaluator_b, secretary_a (A's first village). The access
matrix adds evaluator_x (county A, assigned nowhere), secretary_a2 (A's second village) and
two accounts to act upon (`add_matrix_personas`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import (City, County, Cycle, EvaluatorAssignment, FirstSecretary, Household,
                             Town, User, Village)

PASSWORD = "secret-pass-1"


class ApiClient:
    """A logged-in test client that sends the CSRF header on every write."""

    def __init__(self, client: FlaskClient, csrf_token: str, user: User):
        self.client = client
        self.csrf_token = csrf_token
        self.user = user

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def _write(self, method: str, *args, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("X-CSRFToken", self.csrf_token)
        return getattr(self.client, method)(*args, headers=headers, **kwargs)

    def post(self, *args, **kwargs):
        return self._write("post", *args, **kwargs)

    def patch(self, *args, **kwargs):
        return self._write("patch", *args, **kwargs)

    def put(self, *args, **kwargs):
        return self._write("put", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._write("delete", *args, **kwargs)


def csrf_token(client: FlaskClient) -> str:
    return client.get("/api/auth/csrf").get_json()["csrf_token"]


def login(client: FlaskClient, phone: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/api/auth/login", json={"phone": phone, "password": password},
                       headers={"X-CSRFToken": token})


def make_user(phone: str, role: str, name: str, county: County | None = None,
              secretary: FirstSecretary | None = None) -> User:
    user = User(phone=phone, role=role, name=name, county_id=county.id if county else None,
                secretary_id=secretary.id if secretary else None)
    user.set_password(PASSWORD)
    db.session.add(user)
    return user


def make_village(county: County, town: Town, code: str, name: str, n_households: int,
                 lat: float, lon: float) -> Village:
    village = Village(town=town, county_id=county.id, code=code, name=name, lat=lat, lon=lon,
                      is_poor_village=True)
    db.session.add(village)
    db.session.flush()
    for i in range(1, n_households + 1):
        db.session.add(Household(
            village_id=village.id, household_no=f"{code}{i:04d}", head_name=f"户主{code[-3:]}-{i}",
            family_size=1 + i % 5, attribute=("general", "low_income", "extreme_poor")[i % 3],
            exit_status="exited" if i % 4 == 0 else "not_exited",
            exit_year=2020 if i % 4 == 0 else None))
    return village


@dataclass
class Personas:
    app: Flask
    users: dict[str, User] = field(default_factory=dict)
    counties: dict[str, County] = field(default_factory=dict)
    villages: dict[str, Village] = field(default_factory=dict)
    secretaries: dict[str, FirstSecretary] = field(default_factory=dict)
    cycle: Cycle | None = None
    _clients: dict[str, ApiClient] = field(default_factory=dict)

    @classmethod
    def build(cls, app: Flask) -> "Personas":
        p = cls(app)
        city = City(code="610300", name="宝鸡市")
        db.session.add(city)
        db.session.flush()
        for key, code, name, lat, lon in (("a", "610323", "岐山县", 34.45, 107.62),
                                          ("b", "610326", "眉县", 34.28, 107.75)):
            county = County(city_id=city.id, code=code, name=name, lat=lat, lon=lon)
            db.session.add(county)
            db.session.flush()
            town = Town(county_id=county.id, name=f"{name[:2]}镇")
            db.session.add(town)
            db.session.flush()
            p.counties[key] = county
            p.villages[f"{key}1"] = make_village(county, town, f"{code}100001", f"{name[:2]}一村",
                                                 30, lat + 0.01, lon + 0.01)
            p.villages[f"{key}2"] = make_village(county, town, f"{code}100002", f"{name[:2]}二村",
                                                 12, lat - 0.01, lon - 0.01)
            sec = FirstSecretary(name=f"书记{key.upper()}", phone=f"1390000000{ord(key) % 10}",
                                 dispatch_level="county", dispatch_unit=f"{name}财政局",
                                 village_id=p.villages[f"{key}1"].id, term_start=date(2025, 1, 1),
                                 term_end=date(2026, 12, 31), status="active")
            db.session.add(sec)
            db.session.flush()
            p.secretaries[key] = sec
        p.cycle = Cycle(year=2026, county_id=None, status="open", settings={})
        db.session.add(p.cycle)
        db.session.flush()
        p.users["admin"] = make_user("13800000000", "admin", "市管理员")
        p.users["staff_a"] = make_user("13800000001", "county_staff", "岐山干部", p.counties["a"])
        p.users["staff_b"] = make_user("13800000002", "county_staff", "眉县干部", p.counties["b"])
        p.users["evaluator_a"] = make_user("13800000003", "evaluator", "岐山评议员", p.counties["a"])
        p.users["evaluator_b"] = make_user("13800000004", "evaluator", "眉县评议员", p.counties["b"])
        p.users["secretary_a"] = make_user("13900000007", "secretary", "书记A", p.counties["a"],
                                           secretary=p.secretaries["a"])
        p.users["secretary_b"] = make_user("13900000008", "secretary", "书记B", p.counties["b"],
                                           secretary=p.secretaries["b"])
        db.session.flush()
        db.session.add(EvaluatorAssignment(cycle_id=p.cycle.id, user_id=p.users["evaluator_a"].id,
                                           village_id=p.villages["a1"].id))
        db.session.add(EvaluatorAssignment(cycle_id=p.cycle.id, user_id=p.users["evaluator_b"].id,
                                           village_id=p.villages["b1"].id))
        db.session.commit()
        return p

    def add_matrix_personas(self) -> None:
        """The access matrix's other personas (tests/api/test_policy_matrix.py): an evaluator
        of county A assigned nowhere (evaluator_x), the secretary of A's second village
        (secretary_a2), and one evaluator account per county for staff to act upon
        (target_a, target_b; nobody logs in with them)."""
        a, b = self.counties["a"], self.counties["b"]
        sec = FirstSecretary(name="第二书记", phone="13900000009", dispatch_level="county",
                             dispatch_unit="岐山县教育局", village_id=self.villages["a2"].id,
                             term_start=date(2025, 1, 1), term_end=date(2026, 12, 31),
                             status="active")
        db.session.add(sec)
        db.session.flush()
        self.secretaries["a2"] = sec
        self.users["evaluator_x"] = make_user("13800000005", "evaluator", "未分配评议员", a)
        self.users["secretary_a2"] = make_user("13900000009", "secretary", "第二书记", a,
                                               secretary=sec)
        self.users["target_a"] = make_user("13700000001", "evaluator", "岐山待办评议员", a)
        self.users["target_b"] = make_user("13700000002", "evaluator", "眉县待办评议员", b)
        db.session.commit()

    def client_for(self, name: str) -> ApiClient:
        if name not in self._clients:
            client = self.app.test_client()
            user = self.users[name]
            response = login(client, user.phone)
            assert response.status_code == 200, response.get_json()
            self._clients[name] = ApiClient(client, response.get_json()["csrf_token"], user)
        return self._clients[name]

    def anonymous(self) -> Any:
        return self.app.test_client()
