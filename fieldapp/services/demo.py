"""A realistic, deterministic demo of Baoji (宝鸡): 12 districts and counties, their towns,
800 villages, registered poor households, 797 first secretaries and one account per role.

Everything comes from one seeded RNG, so two runs build the same city.
"""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import insert, select

from ..domain.idcard import check_char
from ..extensions import db
from ..models import City, County, FirstSecretary, Household, Town, User, Village

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


def is_empty() -> bool:
    return db.session.scalar(select(County.id).limit(1)) is None


def _id_number(rng: random.Random, region: str) -> str:
    birth = date(rng.randint(1940, 1995), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{region}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + check_char(first17)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def build_demo() -> dict[str, int]:
    """Create the demo city in the current (empty) database; returns counts."""
    rng = random.Random(SEED)
    city = City(code="610300", name="宝鸡市")
    db.session.add(city)
    db.session.flush()
    villages: list[Village] = []
    for code, name, lat, lon, n_villages, town_names in COUNTIES:
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
    db.session.execute(insert(Household), households)

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
    db.session.execute(insert(FirstSecretary), secretaries)
    db.session.flush()
    _create_accounts()
    db.session.commit()
    _run_demo_cycle()
    return {"counties": len(COUNTIES), "villages": len(villages),
            "households": len(households), "secretaries": len(secretaries)}


def _create_accounts() -> None:
    counties = {c.code: c for c in db.session.scalars(select(County))}
    for phone, role, name, county_code in DEMO_ACCOUNTS:
        county = counties.get(county_code) if county_code else None
        secretary = None
        if role == "secretary":
            secretary = db.session.scalar(
                select(FirstSecretary).join(Village).where(Village.county_id == county.id)
                .order_by(Village.code).limit(1))
            name = secretary.name
        user = User(phone=phone, role=role, name=name, county_id=county.id if county else None,
                    secretary_id=secretary.id if secretary else None)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)


DEMO_SEED = "2026-03-01 福利彩票双色球 2026023期 开奖号码 03 09 14 21 27 31 + 08"


def _run_demo_cycle() -> None:
    """岐山县's 2026 cycle: a draw from a published seed, three villages for the evaluator."""
    from .assignments import assign
    from .cycles import create_cycle
    from .draws import run_draw

    county = db.session.scalar(select(County).where(County.code == "610323"))
    cycle = create_cycle(None, year=2026, county=county)
    run_draw(None, cycle, county, DEMO_SEED)
    evaluator = db.session.scalar(select(User).where(User.role == "evaluator"))
    villages = db.session.scalars(select(Village).where(Village.county_id == county.id)
                                  .order_by(Village.code).limit(3)).all()
    for village in villages:
        assign(None, cycle, evaluator, village)
    db.session.commit()


def demo_logins() -> list[tuple[str, str, str]]:
    return [(phone, DEMO_PASSWORD, role) for phone, role, _name, _c in DEMO_ACCOUNTS]
