"""A realistic, deterministic demo of Baoji (宝鸡): 12 districts and counties, their towns,
800 villages, registered poor households, 797 first secretaries and one account per role,
plus a year of activity in 岐山县 (`build_activity`, below).

Everything comes from seeded RNGs, so two runs build the same city. `build_demo` takes
optional limits (`county_codes`, `max_villages`) so that tests can build a small city.
"""
from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..domain.assessment import AssessmentRule, is_assessed
from ..domain.idcard import check_char
from ..domain.residency import shanghai_today
from ..extensions import db
from ..models import (MEETING_CATEGORIES, SECRETARY_ROLE, CheckIn, City, County, Cycle, Draw,
                      EvaluatorAssignment, FirstSecretary, Household, SampleEntry, Town, User,
                      Village, VillageDraw)
from .assignments import assign
from .checkins import cycle_for, decide_leave, record_spot_check, request_leave
from .cycles import create_cycle
from .draws import run_draw
from .meetings import cast_vote, close_meeting, create_meeting, slip_tokens
from .scoring.entries import save_entry
from .scoring.inputs import county_secretaries
from .sync import sync_batch

DEMO_PASSWORD = "demo1234"
SEED = 20161

# (code, name, lat, lon, villages, towns) — centres from DOMAIN.md; towns approximate.
COUNTIES = [
    ("610302", "渭滨区", 34.37, 107.15, 40, "石鼓镇 神农镇 高家镇 八鱼镇 马营镇"),
    ("610303", "金台区", 34.38, 107.13, 35, "硖石镇 金河镇 蟠龙镇"),
    ("610304", "陈仓区", 34.37, 107.37, 120,
     "虢镇 阳平镇 千河镇 周原镇 贾村镇 县功镇 新街镇 坪头镇 香泉镇 赤沙镇 拓石镇 凤阁岭镇"),
    ("610305", "凤翔区", 34.52, 107.38, 110,
     "城关镇 虢王镇 彪角镇 横水镇 田家庄镇 糜杆桥镇 南指挥镇 陈村镇 长青镇 柳林镇 姚家沟镇 范家寨镇"),
    ("610323", "岐山县", 34.45, 107.62, 80, "凤鸣镇 蔡家坡镇 益店镇 蒲村镇 青化镇 枣林镇 雍川镇 故郡镇 京当镇"),
    ("610324", "扶风县", 34.37, 107.87, 80, "城关街道 天度镇 午井镇 绛帐镇 段家镇 杏林镇 召公镇 法门镇"),
    ("610326", "眉县", 34.28, 107.75, 60, "首善街道 横渠镇 槐芽镇 汤峪镇 常兴镇 金渠镇 营头镇 齐镇"),
    ("610327", "陇县", 34.90, 106.85, 85,
     "城关镇 东风镇 八渡镇 温水镇 天成镇 曹家湾镇 固关镇 东南镇 河北镇 新集川镇"),
    ("610328", "千阳县", 34.65, 107.13, 50, "城关镇 崔家头镇 南寨镇 张家塬镇 水沟镇 草碧镇 高崖镇"),
    ("610329", "麟游县", 34.68, 107.78, 45, "九成宫镇 崔木镇 招贤镇 两亭镇 常丰镇 丈八镇 酒房镇"),
    ("610330", "凤县", 33.92, 106.52, 60,
     "双石铺镇 凤州镇 黄牛铺镇 红花铺镇 河口镇 唐藏镇 平木镇 坪坊镇 留凤关镇"),
    ("610331", "太白县", 34.07, 107.32, 35, "咀头镇 桃川镇 靖口镇 太白河镇 鹦鸽镇 王家堎镇 黄柏塬镇"),
]

VILLAGE_STEMS = ("东 西 南 北 上 下 前 后 新 老 大 小 王 李 张 刘 杨 赵 陈 马 周 吴 郭 何 高 罗 梁 宋 "
                 "唐 许 韩 冯 邓 曹 彭 曾 田 董 袁 潘 蒋 蔡 余 杜 叶 程 魏 苏 吕 丁 沈 任 姚 卢 "
                 "姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 "
                 "雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 常 温 康 施 "
                 "文 牛 樊 葛 邢 安 齐 易 乔 伍 庞 颜 倪 庄 聂 章 鲁 岳 翟 殷 詹 申 欧 耿 关 兰 "
                 "焦 俞 左 柳 甘 祝 包 宁 尚 符 舒 阮 柯 纪 梅 童 凌 毕 单 季 裴 霍 涂 成 苗 谷 "
                 "盛 曲 翁 冉 骆 蓝 路 游 辛 靳 管 柴 蒙 鲍 华 喻 祁 蒲 房 滕 屈 饶 解 牟 艾 尤 "
                 "阳 时 穆 农 司 卓 古 吉 缪 简 车 项 连 芦 麦 褚 娄 窦 戚 岑 景 党 宫 费 卜 冷 "
                 "晏 席 卫 米 柏 宗 瞿 桂 全 佟 应 臧 闵 苟 邬 边 卞 姬 师 和 仇 栾 隋 商 刁 沙 "
                 "荣 巫 寇 桑 郎 甄 丛 仲 虞 敖 巩 明 佘 池 查 麻 苑 迟 邝").split()
VILLAGE_SUFFIX = ("家村", "庄村", "沟村", "坡村", "塬村", "河村", "湾村", "堡村", "寨村", "岭村",
                  "峪村", "川村", "坪村", "店村", "营村")
SURNAMES = "王 李 张 刘 杨 赵 陈 马 周 吴 郭 何 高 罗 梁 宋 唐 许 韩 冯 邓 曹 彭 田 董 袁 史 雷 党 权 强 薛".split()
GIVEN = "建 国 军 民 平 华 明 忠 德 文 玉 兰 芳 秀 英 红 勇 强 刚 宏 志 林 海 春 梅 娟 霞 峰 亮 斌 涛 伟 利 成 生 福 贵 学 安 宁".split()
LEVELS = [("central", 3), ("provincial", 6), ("city", 109)]  # the rest: county (article: 797)
CENTRAL_UNITS = ("国家开发银行陕西省分行", "中国电信陕西分公司", "国家统计局陕西调查总队")
PROVINCIAL_UNITS = ("陕西省农业农村厅", "陕西省财政厅", "陕西省交通运输厅", "陕西省卫生健康委员会",
                    "陕西省教育厅", "陕西省林业局")
CITY_UNITS = ("宝鸡市财政局", "宝鸡市教育局", "宝鸡市发展和改革委员会", "宝鸡市农业农村局",
              "宝鸡市卫生健康委员会", "宝鸡市自然资源局", "宝鸡市住房和城乡建设局", "宝鸡市商务局")
COUNTY_UNIT_KINDS = ("财政局", "教育局", "农业农村局", "人力资源和社会保障局", "卫生健康局",
                     "水利局", "交通运输局", "自然资源局", "民政局", "供销社")

DEMO_ACCOUNTS = [
    # phone, role, name, county code
    ("13800000000", "admin", "宝鸡市管理员", None),
    ("13800000001", "county_staff", "岐山县组织部 王干事", "610323"),
    ("13800000011", "county_staff", "眉县组织部 李干事", "610326"),
    ("13800000002", "evaluator", "岐山县评议员 赵评议", "610323"),
    ("13800000003", "secretary", None, "610323"),
]
DEMO_EVALUATOR = "13800000002"


def is_empty() -> bool:
    return db.session.scalar(select(County.id).limit(1)) is None


def _id_number(rng: random.Random, region: str) -> str:
    birth = date(rng.randint(1940, 1995), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{region}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + check_char(first17)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def build_demo(*, county_codes: Sequence[str] | None = None, max_villages: int | None = None,
               activity: bool = True, today: date | None = None,
               checkin_months: int | None = None) -> dict[str, int]:
    """Create the demo city in the current (empty) database; returns counts.

    `county_codes` keeps only those counties and `max_villages` caps each county's villages
    (tests build a small city); the defaults build the whole city. With `activity`,
    岐山县 gets a year of visits, check-ins, meetings and scores (`build_activity`, which
    takes `today` and `checkin_months`).
    """
    counties = [c for c in COUNTIES if county_codes is None or c[0] in county_codes]
    counts = _build_city(counties, max_villages)
    if any(c[0] == ACTIVITY_COUNTY for c in counties):
        _run_demo_cycle()
        if activity:
            counts.update(build_activity(today=today, checkin_months=checkin_months))
    return counts


def _build_city(counties: list[tuple], max_villages: int | None) -> dict[str, int]:
    """Counties, towns, villages, households, secretaries and the demo accounts."""
    rng = random.Random(SEED)
    villages = _build_villages(rng, counties, max_villages)
    households = _build_households(rng, villages)
    secretaries = _build_secretaries(rng, villages)
    _create_accounts()
    db.session.commit()
    # Let the 800 villages go: every later commit would expire them all again.
    db.session.expunge_all()
    return {"counties": len(counties), "villages": len(villages), "households": households,
            "secretaries": secretaries}


def _build_villages(rng: random.Random, counties: list[tuple], max_villages: int | None
                    ) -> list[Village]:
    city = City(code="610300", name="宝鸡市")
    db.session.add(city)
    db.session.flush()
    villages: list[Village] = []
    for code, name, lat, lon, n_villages, town_names in counties:
        if max_villages is not None:
            n_villages = min(n_villages, max_villages)
        county = County(city_id=city.id, code=code, name=name, lat=lat, lon=lon)
        db.session.add(county)
        db.session.flush()
        towns = [Town(county_id=county.id, name=t) for t in town_names.split()]
        db.session.add_all(towns)
        db.session.flush()
        used_names: set[str] = set()
        for i in range(n_villages):
            town_index = i % len(towns)
            village_name = ""
            while not village_name or village_name in used_names:
                village_name = rng.choice(VILLAGE_STEMS) + rng.choice(VILLAGE_SUFFIX)
            used_names.add(village_name)
            village = Village(
                town_id=towns[town_index].id, county_id=county.id,
                code=f"{code}{town_index + 1:03d}{i + 1:03d}", name=village_name,
                is_poor_village=rng.random() < 0.6, is_weak_branch=rng.random() < 0.08,
                lat=round(lat + rng.uniform(-0.12, 0.12), 6),
                lon=round(lon + rng.uniform(-0.15, 0.15), 6), radius_m=1000)
            villages.append(village)
        db.session.add_all(villages[-n_villages:])
        db.session.flush()
    return villages


def _build_households(rng: random.Random, villages: list[Village]) -> int:
    households = []
    for village in villages:
        n = rng.randint(10, 19) if rng.random() < 0.08 else rng.randint(20, 120)
        region = village.code[:6]
        for k in range(1, n + 1):
            exited = rng.random() < 0.85
            households.append({
                "village_id": village.id, "household_no": f"{village.code}{k:04d}",
                "head_name": _name(rng),
                "id_number": _id_number(rng, region) if rng.random() < 0.9 else None,
                "family_size": rng.choice((1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7)),
                "attribute": rng.choices(("general", "low_income", "extreme_poor"),
                                         (60, 30, 10))[0],
                "exit_status": "exited" if exited else "not_exited",
                "exit_year": rng.randint(2016, 2020) if exited else None,
                "phone": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"
                if rng.random() < 0.7 else None,
                "lat": round(village.lat + rng.uniform(-0.006, 0.006), 6),
                "lon": round(village.lon + rng.uniform(-0.006, 0.006), 6)})
    # Core executemany: the fastest bulk path (the ORM's would fetch every new id back).
    db.session.execute(Household.__table__.insert(), households)
    return len(households)


def _build_secretaries(rng: random.Random, villages: list[Village]) -> int:
    # The article's proportions, spread across the city at random.
    levels = [lvl for lvl, count in LEVELS for _ in range(count)]
    levels += ["county"] * (797 - len(levels))
    rng.shuffle(levels)
    secretaries = []
    for index, village in enumerate(villages[:797]):
        level = levels[index]
        county_name = next(c[1] for c in COUNTIES if c[0] == village.code[:6])
        unit = {"central": rng.choice(CENTRAL_UNITS), "provincial": rng.choice(PROVINCIAL_UNITS),
                "city": rng.choice(CITY_UNITS)}.get(level) or county_name + rng.choice(
                    COUNTY_UNIT_KINDS)
        start = date(rng.choice((2024, 2025)), rng.choice((1, 3, 7)), 1)
        secretaries.append({
            "name": _name(rng), "phone": f"139{index:08d}", "dispatch_level": level,
            "dispatch_unit": unit, "village_id": village.id, "term_start": start,
            "term_end": date(start.year + 2, start.month, 1) - date.resolution,
            "status": "active"})
    db.session.execute(FirstSecretary.__table__.insert(), secretaries)
    db.session.flush()
    return len(secretaries)


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """One hash of the demo password for every demo account: hashing is deliberately slow,
    and the demo's ~30 accounts would otherwise spend seconds on it."""
    probe = User(phone="", role="evaluator", name="")
    probe.set_password(DEMO_PASSWORD)
    return probe.password_hash


def _demo_user(phone: str, name: str, role: str, county: County | None = None,
               secretary: FirstSecretary | None = None) -> User:
    """An account with the demo password, audited like `accounts.create_user`."""
    if secretary is not None and county is None:
        county = secretary.village.county
    user = User(phone=phone, role=role, name=name, county_id=county.id if county else None,
                secretary_id=secretary.id if secretary else None,
                password_hash=_demo_password_hash())
    db.session.add(user)
    db.session.flush()
    record_audit(policy.DEMO, "user.create", user, county_id=user.county_id, role=role,
                 phone=phone)
    return user


def _create_accounts() -> None:
    counties = {c.code: c for c in db.session.scalars(select(County))}
    for phone, role, name, county_code in DEMO_ACCOUNTS:
        county = counties.get(county_code) if county_code else None
        if county_code and county is None:
            continue  # a small city without this county
        secretary = None
        if role == SECRETARY_ROLE:
            secretary = db.session.scalar(
                select(FirstSecretary).join(Village).where(Village.county_id == county.id)
                .order_by(Village.code).limit(1))
            name = secretary.name
        _demo_user(phone, name, role, county, secretary)


DEMO_SEED = "2026-03-01 福利彩票双色球 2026023期 开奖号码 03 09 14 21 27 31 + 08"
DEMO_SEED_RECORDED_AT = datetime(2026, 3, 1, 13, 30, tzinfo=timezone.utc)  # 21:30 in Shanghai


def _run_demo_cycle() -> None:
    """岐山县's 2026 cycle: a draw from a published seed, three villages for the evaluator."""
    county = db.session.scalar(select(County).where(County.code == "610323"))
    cycle = create_cycle(policy.DEMO, year=2026, county=county)
    # The seed was published with the lottery draw of 2026-03-01 and recorded that evening,
    # before the field work of March: visits never predate their draw (honest times).
    run_draw(policy.DEMO, cycle, county, DEMO_SEED, recorded_at=DEMO_SEED_RECORDED_AT)
    evaluator = db.session.scalar(select(User).where(User.phone == DEMO_EVALUATOR))
    villages = db.session.scalars(select(Village).where(Village.county_id == county.id)
                                  .order_by(Village.code).limit(3)).all()
    for village in villages:
        assign(policy.DEMO, cycle, evaluator, village)
    db.session.commit()


def demo_logins() -> list[tuple[str, str, str]]:
    return [(phone, DEMO_PASSWORD, role) for phone, role, _name, _c in DEMO_ACCOUNTS]


# --- activity in 岐山县 ---------------------------------------------------------------------
#
# A year of work, entered through the same services the app uses, so the demo obeys the
# same rules as real users: evaluators' visits and replacements and secretaries'
# check-ins arrive as sync batches (services/sync.py), votes through the ballot service,
# scorecard entries through services/scorecard.py. Nothing is finalised: the demo staff
# can try that. Only the server's clock is simulated while replaying the sync batches
# (`received_at`), as if each phone had synced the evening it recorded.

ACTIVITY_COUNTY = "610323"
ACTIVITY_SEED = 2026
SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF_PHONE, EVALUATOR_PHONE, SECRETARY_PHONE = "13800000001", "13800000002", "13800000003"
EXTRA_EVALUATORS = [(f"138000000{20 + k}", f"岐山县评议员 {name}")
                    for k, name in enumerate(("孙评议", "钱评议", "周评议", "吴评议", "郑评议",
                                              "冯评议"), start=1)]
VILLAGES_PER_EVALUATOR = 13
FIELD_START = date(2026, 3, 2)  # the visits: March–April 2026, working days
HOLIDAYS = {date(2026, 4, 6)}  # 清明
CHECKIN_MONTHS = 3  # check-ins: this month and the two before it, up to now
CHECKIN_SECRETARIES = 20  # who check in: the demo secretary, the storylines and a few more
DAY_START, DAY_END = 8 * 60 + 30, 17 * 60 + 45  # an evaluator's working day (minutes)

ANSWER_CODES = ("satisfied", "basically_satisfied", "dissatisfied", "unknown")
VISIT_ITEMS = ("visited_home", "assistance_satisfaction", "policy_delivered", "income_improved",
               "overall_satisfaction")
BALLOT_ITEMS = ("overall", "stays_in_village", "branch_building", "poverty_relief",
                "serving_villagers")
SUGGESTIONS = ("希望村里的路再修一修", "希望多引进些产业项目", "孩子上学的补助希望能早点到",
               "希望多组织技能培训", "第一书记常来家里，很感谢", "饮水问题解决了，很满意",
               "希望医疗报销手续再简单一些")
VISIT_NOTES = ("户主外出，配偶代答", "户主在家，家人在场", "户主年迈，由子女协助作答",
               "在田间找到户主作答")
REPLACEMENT_REASONS = (("migrant_work", 1, "外出务工，电话确认年底返乡"),  # code, attempts, text
                       ("moved_out", 1, "已随子女迁往县城居住"),
                       ("not_home", 2, "两次上门无人在家"),
                       ("deceased", 1, None))
SEVEN_ONES_EVIDENCE = {
    "strong_team": "村两委班子健全，换届后配齐配强", "party_lecture": "讲专题党课一次",
    "visit_every_household": "全村农户走访一遍，有走访记录",
    "diary": "民情日记一本", "research_report": "调研报告一篇",
    "livelihood_projects": "实施饮水、道路等民生实事", "assistance_projects": "协调帮扶项目资金"}


@dataclass
class _Activity:
    """What the activity builders share: the county, its cycle, the staff account acting
    for the county, the clock and one latent quality (0..1) per village: a good
    secretary's village is more satisfied, holds better meetings and scores better."""
    rng: random.Random
    county: County
    cycle: Cycle
    staff: User
    today: date
    now: datetime
    checkin_months: int
    quality: dict[int, float] = field(default_factory=dict)  # village id -> quality
    roles: dict[str, int] = field(default_factory=dict)  # storyline role -> secretary id
    counts: Counter = field(default_factory=Counter)

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def build_activity(*, today: date | None = None, checkin_months: int | None = None,
                   seed: int = ACTIVITY_SEED) -> dict[str, int]:
    """岐山县's year, through the real services: household visits with quality flags and a
    few replacements (March–April), residency check-ins for the last `checkin_months`
    (3) months up to `today` with leave and spot checks, closed evaluation meetings with
    ballots, and scorecard entries, so that grades, the 20% cap and the recall list
    appear. Returns counts."""
    county = db.session.scalar(select(County).where(County.code == ACTIVITY_COUNTY))
    real_now = datetime.now(SHANGHAI)
    today = today or shanghai_today()
    end_of_today = datetime.combine(today, time(23, 59), SHANGHAI)
    act = _Activity(rng=random.Random(seed), county=county, cycle=cycle_for(county.id, 2026),
                    staff=db.session.scalar(select(User).where(User.phone == STAFF_PHONE)),
                    today=today, now=min(real_now, end_of_today),
                    checkin_months=checkin_months or CHECKIN_MONTHS)
    _plan_storylines(act)
    _visits(act)
    _residency(act)
    _meetings(act)
    _scorecards(act)
    return dict(act.counts)


def _cycle_secretaries(act: _Activity) -> list[FirstSecretary]:
    """The secretaries assessed in the cycle (the default rule: at least 6 months of the
    year), in scorecard order."""
    return [s for s in county_secretaries(act.cycle, act.county.id)
            if is_assessed(s.term_start, s.term_end, act.cycle.year, AssessmentRule())]


def _serving(act: _Activity) -> list[FirstSecretary]:
    """Secretaries serving today, in village-code order (the ones who check in)."""
    today = act.today
    return sorted((s for s in _cycle_secretaries(act)
                   if s.term_start <= today and (s.term_end is None or s.term_end >= today)),
                  key=lambda s: s.village.code)


def _plan_storylines(act: _Activity) -> None:
    """A quality per village, and the secretaries with a story: one weak performer, one
    absent at three spot checks (both recalled), one strong but absent once (no 优秀),
    none of them in the demo evaluator's unfinished villages; then one secretary with no
    meeting yet and one whose meeting is still to come (both incomplete)."""
    rng = act.rng
    villages = db.session.scalars(select(Village).where(Village.county_id == act.county.id)
                                  .order_by(Village.code)).all()
    for village in villages:
        act.quality[village.id] = round(0.3 + 0.7 * rng.random() ** 0.7, 3)
    demo_id = db.session.scalar(select(User.secretary_id).where(User.phone == SECRETARY_PHONE))
    unfinished = {v.id for v in _demo_evaluator_villages(act)}
    graded = [s for s in _cycle_secretaries(act)
              if s.id != demo_id and s.village_id not in unfinished]
    serving = {s.id for s in _serving(act)}
    candidates = [s for s in graded if s.id in serving]  # they check in: spot checks too
    picked = rng.sample(candidates, min(3, len(candidates)))
    for role, secretary, quality in zip(("weak", "absent", "absent_once"), picked,
                                        (0.08, 0.45, 0.99)):
        act.roles[role] = secretary.id
        act.quality[secretary.village_id] = quality
    rest = [s for s in graded if s not in picked]
    for role, secretary in zip(("no_meeting", "upcoming_meeting"),
                               rng.sample(rest, min(2, len(rest)))):
        act.roles[role] = secretary.id


def _demo_evaluator_villages(act: _Activity) -> list[Village]:
    """The demo evaluator's villages (`_run_demo_cycle`), by code."""
    return list(db.session.scalars(select(Village).join(
        EvaluatorAssignment, EvaluatorAssignment.village_id == Village.id).join(
        User, EvaluatorAssignment.user_id == User.id).where(
        User.phone == EVALUATOR_PHONE, EvaluatorAssignment.cycle_id == act.cycle.id)
        .order_by(Village.code)))


# --- time ------------------------------------------------------------------------------


def _local(day: date, minutes: float) -> datetime:
    """`minutes` after midnight of `day` in Asia/Shanghai, as an aware datetime."""
    return datetime.combine(day, time(0), SHANGHAI) + timedelta(minutes=minutes)


def _iso(at: datetime) -> str:
    """A phone's timestamp: ISO 8601 in UTC."""
    return at.astimezone(timezone.utc).isoformat(timespec="seconds")


def _working_day(day: date) -> date:
    while day.weekday() >= 5 or day in HOLIDAYS:
        day += timedelta(days=1)
    return day


def _sync(user: User, records: list[dict], sent_at: datetime) -> list[dict]:
    """POST /api/sync, as the phone sends it at `sent_at`: all or nothing."""
    # Received when the phone sent it: otherwise every replayed record would look
    # synced months late.
    return sync_batch(user, {"device_sent_at": sent_at.astimezone(timezone.utc),
                             "records": records},
                      received_at=sent_at.astimezone(timezone.utc))["results"]


def _sent(records: list[dict], sent_at: datetime) -> list[dict]:
    """Records the phone sent at `sent_at`, kept for one replay batch (`_replay`)."""
    at = sent_at.astimezone(timezone.utc)
    return [{**r, "received_at": at, "device_sent_at": at} for r in records]


def _replay(user: User, records: list[dict]) -> None:
    """Everything one phone sent, as one batch through the sync service: each record keeps
    the time its phone sent it, and the series is re-flagged once (the bulk path)."""
    if records:
        last = max(r["received_at"] for r in records)
        sync_batch(user, {"device_sent_at": last, "records": records}, received_at=last)


# --- household visits ------------------------------------------------------------------


def _visits(act: _Activity) -> None:
    """The demo evaluator keeps 岐山县's first three villages (one done, one half done, one
    not started: incomplete scores for the demo to finish); six more evaluators visit the
    rest, a town or two each, in March and April."""
    for evaluator, villages, first_day in _evaluator_plan(act):
        diary = _Diary(act, evaluator, first_day)
        for village, target in villages:
            if target != 0:
                _visit_village(act, diary, village, target)
                diary.sync_evening()
        _replay(evaluator, diary.sent)


def _evaluator_plan(act: _Activity) -> list[tuple[User, list[tuple[Village, int | None]], date]]:
    """[(evaluator, [(village, visits wanted or None for all)], first day)]; accounts and
    assignments are made here, through services/accounts.py and assignments.py."""
    demo = db.session.scalar(select(User).where(User.phone == EVALUATOR_PHONE))
    own = _demo_evaluator_villages(act)
    plan = []
    rest = db.session.scalars(select(Village).where(
        Village.county_id == act.county.id, Village.id.notin_([v.id for v in own]))
        .order_by(Village.code)).all()
    n = max(1, min(len(EXTRA_EVALUATORS), round(len(rest) / VILLAGES_PER_EVALUATOR)))
    for k in range(n):
        phone, name = EXTRA_EVALUATORS[k]
        evaluator = _demo_user(phone, name, "evaluator", act.county)
        chunk = rest[k * len(rest) // n:(k + 1) * len(rest) // n]
        for village in chunk:
            assign(act.staff, act.cycle, evaluator, village)
        plan.append((evaluator, [(v, None) for v in chunk],
                     _working_day(FIELD_START + timedelta(days=act.rng.randint(0, 4)))))
    plan.append((demo, list(zip(own, (None, 9, 0))), FIELD_START + timedelta(days=21)))
    return plan


class _Diary:
    """One evaluator's working days: visits follow each other from 08:30, a new day when
    the day is full or a village is done; the phone syncs the evening a village is done."""

    def __init__(self, act: _Activity, user: User, first_day: date):
        self.act, self.user = act, user
        self.day = _working_day(first_day)
        self.minute = DAY_START + act.rng.randint(0, 30)
        self.records: list[dict] = []
        self.sent: list[dict] = []  # evenings' syncs, replayed in one batch at the end

    def new_day(self) -> None:
        self.day = _working_day(self.day + timedelta(days=1))
        self.minute = DAY_START + self.act.rng.randint(0, 40)

    def new_village(self) -> None:
        """Drive to the next village: the next morning, or now if the day is young."""
        if self.minute > DAY_START + 60:
            self.new_day()
        else:
            self.minute += self.act.rng.uniform(40, 70)

    def now(self) -> datetime:
        return _local(self.day, self.minute)

    def slot(self, minutes: float) -> tuple[datetime, datetime]:
        """The next visit of `minutes`, then a walk to the next house."""
        if self.minute + minutes > DAY_END:
            self.new_day()
        start = self.now()
        self.minute += minutes + self.act.rng.uniform(4, 18)
        return start, start + timedelta(minutes=minutes)

    def sync_now(self, records: list[dict]) -> list[dict]:
        """Synced at once (the village committee has signal)."""
        self.minute += 5
        return _sync(self.user, records, self.now())

    def sync_evening(self) -> None:
        if self.records:
            sent = _local(self.day, 19 * 60 + self.act.rng.randint(20, 150))
            self.sent += _sent(self.records, sent)
            self.records = []


def _entries(village: Village) -> list[tuple[SampleEntry, Household]]:

    return list(db.session.execute(
        select(SampleEntry, Household).join(Household, SampleEntry.household_id == Household.id)
        .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
        .join(Draw, VillageDraw.draw_id == Draw.id)
        .where(VillageDraw.village_id == village.id, Draw.status == "active",
               VillageDraw.status == "active")
        .order_by(SampleEntry.rank)).all())


def _visit_village(act: _Activity, diary: _Diary, village: Village, target: int | None) -> None:
    """Visit a village's sample in rank order: a few households replaced first (their
    reserves visited instead), a few left unvisited, the answers following the village's
    quality, and now and then a visit with a quality problem."""
    rng = act.rng
    diary.new_village()
    rows = _entries(village)
    sample = [(e, h) for e, h in rows if e.role == "sample"]
    reserves = {e.token: (e, h) for e, h in rows if e.role == "reserve"}
    to_visit = sample[:target] if target is not None else sample
    if target is None and reserves:
        to_visit = sample[:len(sample) - rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5))]
    if target is None and reserves and rng.random() < 0.2:
        to_visit = _replace_some(act, diary, to_visit, reserves)
    previous: tuple[float, float] | None = None
    for entry, household in to_visit:
        problem = _problem(act)
        record, previous = _visit_record(act, diary, village, entry, household, problem, previous)
        diary.records.append({"uuid": act.new_uuid(), "type": "visit", "payload": record})
        act.counts["visits"] += 1


def _replace_some(act: _Activity, diary: _Diary, to_visit: list, reserves: dict) -> list:
    """One or two sampled households cannot be visited (moved, migrant work, ...): the
    phone sends `replacement` records and visits the reserves the server activates."""
    rng = act.rng
    gone = rng.sample(range(len(to_visit)), rng.choice((1, 1, 2)))
    records = []
    for index in gone:
        reason, attempts, note = rng.choice(REPLACEMENT_REASONS)
        records.append({"uuid": act.new_uuid(), "type": "replacement", "payload": {
            "sample_token": to_visit[index][0].token, "reason": reason, "reason_text": note,
            "attempts": attempts, "at": _iso(diary.now())}})
    results = diary.sync_now(records)
    act.counts["replacements"] += len(records)
    activated = [reserves[r["data"]["reserve_token"]] for r in results
                 if r.get("data", {}).get("reserve_token") in reserves]
    return [row for i, row in enumerate(to_visit) if i not in gone] + activated


def _problem(act: _Activity) -> str | None:
    """Most visits are clean. The county's first visits include one of each problem the
    flags catch (so even a small demo shows them); later ones a few at random. Exactly
    one visit is recorded outside the village."""
    n = act.counts["visits"]
    forced = {2: "outside", 4: "short", 6: "low_accuracy", 8: "no_location", 11: "same_spot"}
    if n in forced:
        return forced[n]
    roll = act.rng.random()
    if roll < 0.015:
        return "short"
    if roll < 0.035:
        return "low_accuracy"
    if roll < 0.04:
        return "no_location"
    return None


def _visit_record(act: _Activity, diary: _Diary, village: Village, entry: SampleEntry,
                  household: Household, problem: str | None,
                  previous: tuple[float, float] | None) -> tuple[dict, tuple[float, float]]:
    """The `visit` payload for one household, and where the phone was."""
    rng = act.rng
    minutes = rng.uniform(1.0, 1.6) if problem == "short" else rng.uniform(12, 32)
    started, ended = diary.slot(minutes)
    lat = household.lat + rng.gauss(0, 0.00006)
    lon = household.lon + rng.gauss(0, 0.00008)
    accuracy = round(rng.uniform(5, 35), 1)
    if problem == "outside":  # the form filled in at the town office, 3 km away
        lat, lon = village.lat + 0.028, village.lon + 0.012
    elif problem == "low_accuracy":  # indoors, no GPS: a network position
        accuracy = round(rng.uniform(150, 600), 1)
    elif problem == "same_spot" and previous is not None:  # two forms at one place
        lat, lon = previous
    lat, lon = round(lat, 6), round(lon, 6)
    no_fix = problem == "no_location"
    answers = _household_answers(rng, act.quality[village.id], household.family_size)
    return {
        "sample_token": entry.token, "instrument_id": "household_visit", "instrument_version": 1,
        "answers": answers,
        "note": rng.choice(VISIT_NOTES) if rng.random() < 0.25 else None,
        "started_at": _iso(started), "ended_at": _iso(ended),
        # The stored position is the end fix; the start fix wanders by a few metres.
        "geo_start": None if no_fix else _fix(lat + rng.gauss(0, 0.00003), lon, accuracy,
                                              started + timedelta(seconds=20)),
        "geo_end": None if no_fix else _fix(lat, lon, accuracy, ended - timedelta(seconds=10)),
        "geo_error": "denied" if no_fix else None,
    }, (lat, lon)


def _fix(lat: float, lon: float, accuracy: float, at: datetime) -> dict:
    return {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy": accuracy, "at": _iso(at)}


def _satisfaction(rng: random.Random, quality: float, codes: Sequence[str]) -> str:
    """满意 / 基本满意 / 不满意 (/ 不了解): mostly satisfied, less so in weaker villages."""
    satisfied = 0.25 + 0.68 * quality
    rest = 1 - satisfied
    weights = (satisfied, rest * 0.68, rest * 0.24, rest * 0.08)[:len(codes)]
    return rng.choices(codes, weights)[0]


def _household_answers(rng: random.Random, quality: float, family_size: int) -> dict[str, Any]:
    mood = min(1.0, max(0.0, rng.gauss(quality, 0.12)))  # households differ within a village
    answers: dict[str, Any] = {item: _satisfaction(rng, mood, ANSWER_CODES) for item in VISIT_ITEMS}
    if rng.random() < 0.7:
        answers["respondent_family_members"] = rng.randint(1, max(1, family_size))
    if rng.random() < 0.2:
        answers["suggestions"] = rng.choice(SUGGESTIONS)
    return answers


# --- residency -------------------------------------------------------------------------


def _residency(act: _Activity) -> None:
    """Check-ins of 20 secretaries serving today (the phone app's pilot group) for the
    last few months, a leave request approved (and one pending), and unannounced spot
    checks."""
    secretaries = _checkin_group(act)
    users = _secretary_users(act, secretaries)
    first = date(act.today.year, act.today.month, 1)
    for _ in range(act.checkin_months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    demo = next((s for s in secretaries if users[s.id].phone == SECRETARY_PHONE), None)
    leave = _approved_leave(act, users[demo.id], first) if demo else set()
    for secretary in secretaries:
        presence = {act.roles.get("absent"): 0.45, demo.id if demo else None: 0.97}.get(
            secretary.id, act.rng.uniform(0.86, 0.98))
        _checkins(act, secretary, users[secretary.id], first, presence,
                  leave if secretary is demo else set())
    _pending_leave(act, secretaries, users)
    _spot_checks(act, demo, first)


def _checkin_group(act: _Activity) -> list[FirstSecretary]:
    """The demo secretary, the storylines' secretaries and a few others, by village code.
    (Every check-in re-flags the secretary's whole series: the group stays small to keep
    the demo quick to build.)"""
    serving = _serving(act)
    demo_id = db.session.scalar(select(User.secretary_id).where(User.phone == SECRETARY_PHONE))
    chosen = {demo_id, *act.roles.values()}
    others = [s for s in serving if s.id not in chosen]
    extra = CHECKIN_SECRETARIES - len([s for s in serving if s.id in chosen])
    chosen |= {s.id for s in act.rng.sample(others, max(0, min(extra, len(others))))}
    return [s for s in serving if s.id in chosen]


def _secretary_users(act: _Activity, secretaries: list[FirstSecretary]) -> dict[int, User]:
    """Their accounts: the demo secretary's exists; the others log in with their roster
    phone and the demo password."""
    users = {u.secretary_id: u for u in db.session.scalars(
        select(User).where(User.secretary_id.in_([s.id for s in secretaries])))}
    for s in secretaries:
        if s.id not in users:
            users[s.id] = _demo_user(s.phone, s.name, "secretary", secretary=s)
    return users


def _checkins(act: _Activity, secretary: FirstSecretary, user: User, first: date,
              presence: float, leave: set[date]) -> None:
    """One day at a time: mostly a morning check-in in the village (by the poster's QR code
    or by GPS alone), sometimes a second one, now and then one from the county town, and
    days away. The phone syncs a few minutes after each day's last check-in."""
    rng = act.rng
    day = first
    sent_records: list[dict] = []
    while day <= act.today:
        weekend = day.weekday() >= 5
        if day not in leave and rng.random() < (presence - (0.15 if weekend else 0)):
            moments = [rng.uniform(7 * 60 + 40, 9 * 60 + 40)]
            if rng.random() < 0.2:
                moments.append(rng.uniform(14 * 60, 17 * 60))
            records = [(_local(day, m), _checkin_record(act, secretary.village, _local(day, m)))
                       for m in moments]
            sent_at = _local(day, moments[-1] + rng.uniform(1, 15))
            # Today's check-ins later than now are not made yet (the RNG is drawn for
            # them all the same, so the rest of the demo does not depend on the hour).
            records = [record for at, record in records if at < act.now]
            if records:
                sent_records += _sent(records, min(sent_at, act.now))
                act.counts["checkins"] += len(records)
        day += timedelta(days=1)
    _replay(user, sent_records)


def _checkin_record(act: _Activity, village: Village, at: datetime) -> dict:
    rng = act.rng
    roll = rng.random()
    payload: dict[str, Any] = {"at": _iso(at), "geo": None, "geo_error": None,
                               "village_token": None}
    if roll < 0.02:
        payload["geo_error"] = "timeout"
    elif roll < 0.06:  # a meeting in the county town
        payload["geo"] = {"lat": round(act.county.lat + rng.gauss(0, 0.002), 6),
                          "lon": round(act.county.lon + rng.gauss(0, 0.002), 6),
                          "accuracy": round(rng.uniform(8, 30), 1), "at": _iso(at)}
    else:
        payload["geo"] = {"lat": round(village.lat + rng.gauss(0, 0.0015), 6),
                          "lon": round(village.lon + rng.gauss(0, 0.0018), 6),
                          "accuracy": round(rng.uniform(6, 45), 1), "at": _iso(at)}
        if rng.random() < 0.4:
            payload["village_token"] = village.checkin_token
    return {"uuid": act.new_uuid(), "type": "checkin", "payload": payload}


def _approved_leave(act: _Activity, user: User, first: date) -> set[date]:
    """The demo secretary's training week, requested on the phone and approved by staff."""
    start = _working_day(first + timedelta(days=40))
    end = start + timedelta(days=4)
    if end >= act.today:
        start, end = first + timedelta(days=7), first + timedelta(days=9)
    leave = request_leave(user, {"start": start, "end": end, "reason": "参加县委党校第一书记培训班"})
    decide_leave(act.staff, leave, "approve", "同意，培训期间请保持电话畅通")
    act.counts["leave_requests"] += 1
    return {start + timedelta(days=k) for k in range((end - start).days + 1)}


def _pending_leave(act: _Activity, secretaries: list[FirstSecretary],
                   users: dict[int, User]) -> None:
    """A request waiting for the county staff's decision."""
    candidates = [s for s in secretaries if users[s.id].phone != SECRETARY_PHONE]
    if candidates:
        start = act.today + timedelta(days=3)
        request_leave(users[candidates[-1].id], {
            "start": start, "end": start + timedelta(days=2), "reason": "家中老人住院，需陪护"})
        act.counts["leave_requests"] += 1


def _spot_checks(act: _Activity, demo: FirstSecretary | None, first: date) -> None:
    """Unannounced checks (暗访): the demo secretary found in the village; the absent
    secretary missed three times (recalled), the strong one once (no 优秀)."""
    def days_with(secretary_id: int, present: bool) -> list[date]:
        checked = set(db.session.scalars(select(CheckIn.day).where(
            CheckIn.secretary_id == secretary_id, CheckIn.inside_fence.is_(True))))
        days = [first + timedelta(days=k) for k in range((act.today - first).days)]
        return [d for d in days if (d in checked) == present and d.weekday() < 5]

    plan = [(demo.id if demo else None, True, 1, "在村委会办公，查看了民情日记"),
            (act.roles.get("absent"), False, 3, "暗访时不在村，电话称在县城办事"),
            (act.roles.get("absent_once"), False, 1, "暗访时不在村")]
    for secretary_id, present, n, note in plan:
        if secretary_id is None:
            continue
        days = days_with(secretary_id, present)
        for day in sorted(act.rng.sample(days, min(n, len(days)))):
            record_spot_check(act.staff, {"secretary_id": secretary_id, "day": day,
                                          "present": present, "note": note})
            act.counts["spot_checks"] += 1


# --- democratic evaluation meetings ------------------------------------------------------


def _meetings(act: _Activity) -> None:
    """A meeting for every graded secretary in April, ballots cast on the slips' QR codes,
    then closed; except one secretary with no meeting yet and one whose meeting is
    upcoming (open, slips printed, no votes)."""
    for secretary in _cycle_secretaries(act):
        if secretary.id != act.roles.get("no_meeting"):
            upcoming = secretary.id == act.roles.get("upcoming_meeting")
            _hold_meeting(act, secretary, upcoming)


def _hold_meeting(act: _Activity, secretary: FirstSecretary, upcoming: bool) -> None:

    rng = act.rng
    participants = {"party_member": rng.randint(6, 12), "cadre": rng.randint(4, 7),
                    "villager_rep": rng.randint(8, 14), "poor_household_rep": rng.randint(5, 9)}
    held_on = (act.today + timedelta(days=6)) if upcoming else \
        _working_day(date(2026, 4, 1) + timedelta(days=rng.randint(0, 26)))
    meeting = create_meeting(act.staff, {
        "cycle_id": act.cycle.id, "secretary_id": secretary.id, "held_on": held_on,
        "place": f"{secretary.village.name}村委会会议室", "participants": participants})
    act.counts["meetings"] += 1
    if upcoming:
        return
    tokens = iter(slip_tokens(act.staff, meeting))
    quality = act.quality[secretary.village_id]
    for category in MEETING_CATEGORIES:
        for _ in range(participants[category]):
            token = next(tokens)
            if rng.random() < 0.1:
                continue  # absent: the slip stays unused
            lift = 0.08 if category == "cadre" else 0.0
            mood = min(1.0, max(0.0, rng.gauss(quality + lift, 0.1)))
            answers = {item: _satisfaction(rng, mood, ANSWER_CODES[:3]) for item in BALLOT_ITEMS}
            cast_vote(token, category, answers, receipt=act.new_uuid(), commit=False)
            act.counts["ballots"] += 1
    close_meeting(act.staff, meeting)


# --- the scorecard -----------------------------------------------------------------------


def _scorecards(act: _Activity) -> None:
    """Work performance, discipline and evaluation for every graded secretary, following
    the village's quality (plus the storylines), entered by the county staff. Not
    finalised."""
    rng = act.rng
    for secretary in _cycle_secretaries(act):
        quality = act.quality[secretary.village_id]
        performance = min(60.0, 36 + 21 * quality + rng.gauss(0, 1.2))
        evaluation = min(10.0, 5.8 + 4.2 * quality + rng.gauss(0, 0.25))
        discipline = rng.choice((8.5, 9, 9.5, 10, 10))
        if secretary.id == act.roles.get("weak"):
            performance, evaluation, discipline = 33.5, 5.0, 7.0
        elif secretary.id == act.roles.get("absent"):
            discipline = 1.0
        elif secretary.id == act.roles.get("absent_once"):  # 优秀 on points, capped by 暗访
            performance, discipline = max(performance, 58.0), 7.0
        done = [code for code in SEVEN_ONES_EVIDENCE if rng.random() < 0.55 + 0.45 * quality]
        save_entry(act.staff, act.cycle, secretary, {
            "work_performance": round(performance, 1), "work_discipline": discipline,
            "work_evaluation": round(evaluation, 1),
            "seven_ones": {code: {"done": True, "evidence": SEVEN_ONES_EVIDENCE[code]}
                           for code in done}}, commit=False)
        act.counts["scorecards"] += 1
    db.session.commit()
