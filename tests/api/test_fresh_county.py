"""Issue 9, "Done when": on an empty database, using only the files a county has, a county
goes from install to draw with no demo; it then adds a village mid-year, draws it alone,
and that village's secretary's check-in counts as present.

The roster is generated for a county picked at random among all of China's official
county-level divisions, with random towns, villages, households, header spellings and
file formats: each run checks a roster no developer has seen (the seed is in every
failure message; ROSTER_SEED=... replays one)."""
from __future__ import annotations

import csv
import io
import os
import random
import re
import uuid
from datetime import date, datetime, timezone

import openpyxl
from sqlalchemy import func, select

from fieldapp.domain import divisions
from fieldapp.domain.idcard import check_char
from fieldapp.domain.residency import shanghai_today
from fieldapp.models import City, County, Town, Village, VillageDraw

from ..personas import csrf_token

SEED = int(os.environ.get("ROSTER_SEED") or random.SystemRandom().randrange(10**9))
PASSWORD = "secret-pass-1"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国军民平华明忠德文玉兰芳秀英红勇强刚宏志林海春梅娟霞峰亮斌涛伟利成生福贵学安宁"
ALIASES = {"镇办": ("镇办", "乡镇", "乡镇街道"), "村名": ("村名", "行政村"),
           "户主姓名": ("户主姓名", "户主"), "家庭人口": ("家庭人口", "家庭人口数"),
           "联系电话": ("联系电话", "电话"), "姓名": ("姓名", "第一书记姓名"),
           "手机号": ("手机号", "手机号码")}


def _county(rng: random.Random) -> divisions.Division:
    table = divisions._table()[0]
    choices = [d for code, d in sorted(table.items()) if divisions.county(code) and d.lat
               and divisions.city(code) is not None]
    return rng.choice(choices)


class Roster:
    """A county's files, made up: towns with 9-digit codes, villages with 12."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.county = _county(rng)
        self.towns = [(f"{self.county.code}{n:03d}", f"{self._name(2)}镇")
                      for n in rng.sample(range(100, 130), 3)]
        self.used_phones: set[str] = set()

    def _name(self, n: int) -> str:
        return "".join(self.rng.choice(GIVEN) for _ in range(n))

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self._name(self.rng.choice((1, 2)))

    def mobile(self) -> str:
        while True:
            phone = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def village(self, town: tuple[str, str], n: int) -> dict:
        lat = self.county.lat + self.rng.uniform(-0.08, 0.08)
        lon = self.county.lon + self.rng.uniform(-0.08, 0.08)
        households = []
        for k in range(1, self.rng.randint(15, 45)):
            has_home = self.rng.random() < 0.9
            first17 = f"{self.county.code}19{self.rng.randint(40, 95)}0{self.rng.randint(1, 9)}1{self.rng.randint(0, 8)}{self.rng.randrange(1000):03d}"
            households.append({
                "no": f"{town[0]}{n:03d}{k:04d}", "head": self.person(),
                "id": first17 + check_char(first17) if self.rng.random() < 0.7 else None,
                "size": self.rng.randint(1, 7),
                "attribute": self.rng.choice(("一般贫困户", "低保贫困户", "特困供养贫困户")),
                "exited": self.rng.random() < 0.8,
                "phone": self.mobile() if self.rng.random() < 0.6 else None,
                "lat": round(lat + self.rng.uniform(-0.004, 0.004), 6) if has_home else None,
                "lon": round(lon + self.rng.uniform(-0.004, 0.004), 6) if has_home else None})
        start = date(shanghai_today().year - 1, self.rng.choice((1, 3, 7)), 1)
        return {"code": f"{town[0]}{n:03d}", "name": self._name(2) + "村", "town": town,
                "centre": (lat, lon), "households": households,
                "secretary": {"name": self.person(), "phone": self.mobile(),
                              "level": self.rng.choice(("中央", "省", "市", "县")),
                              "unit": f"{self.county.name}{self.rng.choice(('财政局', '教育局', '水利局'))}",
                              "start": start, "end": date(start.year + 3, start.month, 1)}}

    def households_xlsx(self, villages: list[dict]) -> bytes:
        names = {k: self.rng.choice(v) for k, v in ALIASES.items()}
        header = ["县区", names["镇办"], names["村名"], "村代码", "户编号", names["户主姓名"],
                  "身份证号", names["家庭人口"], "贫困户属性", "脱贫状态", "脱贫年度",
                  names["联系电话"], "纬度", "经度", "坐标系"]
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = self.rng.choice(("户", "建档立卡户", "Sheet1"))
        if self.rng.random() < 0.5:
            ws.append([f"{self.county.name}建档立卡贫困户名册"])  # a title row above the header
        ws.append(header)
        for v in villages:
            for h in v["households"]:
                ws.append([self.county.name, v["town"][1], v["name"], v["code"], h["no"], h["head"],
                           h["id"], h["size"], h["attribute"], "已脱贫" if h["exited"] else "未脱贫",
                           self.rng.randint(2016, 2020) if h["exited"] else None, h["phone"],
                           h["lat"], h["lon"], "WGS84" if h["lat"] is not None else None])
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()

    def secretaries_csv(self, villages: list[dict]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([self.rng.choice(ALIASES["姓名"]), self.rng.choice(ALIASES["手机号"]),
                         "选派层级", "选派单位", "村代码", "任期开始", "任期结束"])
        for v in villages:
            s = v["secretary"]
            writer.writerow([s["name"], s["phone"], s["level"], s["unit"], v["code"],
                             s["start"].isoformat(), s["end"].isoformat()])
        return buffer.getvalue().encode("gb18030")  # what Excel in China writes


def _client(app, phone: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/api/auth/login", json={"phone": phone, "password": password},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 200, (SEED, response.get_json())
    client.environ_base["HTTP_X_CSRFTOKEN"] = response.get_json()["csrf_token"]
    return client


def _upload(client, *files):
    return client.post("/api/roster/import", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(data), name) for name, data in files]})


def test_a_real_county_from_a_fresh_install(app, db, runner, tmp_path):
    rng = random.Random(SEED)
    roster = Roster(rng)
    county, why = roster.county, f"ROSTER_SEED={SEED} ({roster.county.code} {roster.county.name})"
    villages = [roster.village(roster.towns[i % 3], 200 + i) for i in range(rng.randint(4, 7))]
    assert db.session.scalar(select(func.count()).select_from(County)) == 0

    # 1. Install: one admin, then the county's own files. No county or town is set up.
    result = runner.invoke(args=["user", "create", "--role", "admin", "--phone", "13900000001",
                                 "--name", "管理员", "--password", PASSWORD])
    assert result.exit_code == 0, (why, result.output)
    households, secretaries = tmp_path / "户.xlsx", tmp_path / "第一书记.csv"
    households.write_bytes(roster.households_xlsx(villages))
    secretaries.write_bytes(roster.secretaries_csv(villages))
    result = runner.invoke(args=["roster", "import", str(households), str(secretaries)])
    assert result.exit_code == 0, (why, result.output)
    (city,) = db.session.scalars(select(City)).all()
    assert city.code == divisions.city(county.code).code, why
    stored = db.session.scalar(select(County).where(County.code == county.code))
    assert stored.name == county.name, why
    assert {t.code for t in db.session.scalars(select(Town))} == {
        v["town"][0] for v in villages}, why
    # 2. The county's staff: an account for the county, by its code.
    result = runner.invoke(args=["user", "create", "--role", "county_staff", "--phone",
                                 "13900000002", "--name", "组织部干部", "--county", county.code,
                                 "--password", PASSWORD])
    assert result.exit_code == 0, (why, result.output)
    staff = _client(app, "13900000002")

    # 3. A cycle and the county's draw: every village drawn.
    year = shanghai_today().year
    cycle = staff.post("/api/cycles", json={"year": year, "county_id": stored.id})
    assert cycle.status_code == 201, (why, cycle.get_json())
    cycle_id = cycle.get_json()["id"]
    drawn = staff.post(f"/api/cycles/{cycle_id}/draws", json={
        "seed": f"{year}-03-01 福彩3D 开奖号 {rng.randrange(1000):03d}", "county_id": stored.id})
    assert drawn.status_code == 201, (why, drawn.get_json())
    assert db.session.scalar(select(func.count()).select_from(VillageDraw)) == len(villages), why

    # 4. Mid-year, a village is added: its households and its secretary, as the staff send them.
    late = roster.village(roster.towns[0], 299)
    late["households"] = [dict(h, lat=h["lat"] or late["centre"][0],
                               lon=h["lon"] or late["centre"][1]) for h in late["households"]]
    added = _upload(staff, ("新增村.xlsx", roster.households_xlsx([late])),
                    ("新增村书记.csv", roster.secretaries_csv([late])))
    assert added.status_code == 200, (why, added.get_json())
    village = db.session.scalar(select(Village).where(Village.code == late["code"]))
    assert village.centre_source == "estimated", why
    alone = staff.post(f"/api/cycles/{cycle_id}/village-draws", json={
        "seed": f"{year}-07-01 新增村 {rng.randrange(10**6)}", "village_id": village.id})
    assert alone.status_code == 201, (why, alone.get_json())
    assert db.session.scalar(select(func.count()).select_from(VillageDraw)) == len(villages) + 1

    # 5. Its secretary gets an account and checks in at the village: a day present.
    result = runner.invoke(args=["user", "create-secretaries", "--county", county.code])
    assert result.exit_code == 0, (why, result.output)
    passwords = dict(re.findall(r"^(\d{11})\t(\S+)\t", result.output, re.M))
    phone = late["secretary"]["phone"]
    secretary = _client(app, phone, passwords[phone])
    now = datetime.now(timezone.utc)
    fix = {"lat": village.lat + 0.0008, "lon": village.lon, "accuracy": 15.0,
           "at": now.isoformat()}
    synced = secretary.post("/api/sync", json={"records": [{
        "uuid": str(uuid.uuid4()), "type": "checkin", "payload": {
            "at": now.isoformat(), "geo": fix, "geo_error": None, "village_token": None}}]})
    assert synced.status_code == 200, (why, synced.get_json())
    assert synced.get_json()["results"][0]["data"]["inside_fence"] is True, why
    month = secretary.get("/api/checkins/month").get_json()
    today = shanghai_today().isoformat()
    assert {"day": today, "status": "present"}.items() <= next(
        d for d in month["days"] if d["day"] == today).items(), why
    assert month["days_present"] >= 1, why
