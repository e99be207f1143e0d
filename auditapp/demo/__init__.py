"""A realistic demo: two clients, a region tree, 60+ stores, 25+ shoppers and one
user per role. Seeded, so every run builds the same data."""

import random
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import (
    ADMIN,
    COORDINATOR,
    REGIONAL_MANAGER,
    REVIEWER,
    STORE_MANAGER,
    Client,
    Region,
    Store,
    User,
)
from ..services.core.passwords import hash_password
from ..services.org import records as org
from .follow_up import demo_store, follow_up_demo
from .review import review_demo
from .visits import submit_done_visits
from .waves import DEMO_SHOPPER, build_waves

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed on purpose; demo only

# city code, English, Chinese, latitude, longitude, districts
CITIES = {
    "BJ": (
        "Beijing",
        "北京",
        39.9042,
        116.4074,
        [
            "Wangfujing 王府井",
            "Zhongguancun 中关村",
            "Sanlitun 三里屯",
            "Guomao 国贸",
            "Wudaokou 五道口",
            "Xidan 西单",
        ],
    ),
    "TJ": (
        "Tianjin",
        "天津",
        39.3434,
        117.3616,
        ["Binjiang Road 滨江道", "Heping 和平路", "Nankai 南开"],
    ),
    "SH": (
        "Shanghai",
        "上海",
        31.2304,
        121.4737,
        [
            "Lujiazui 陆家嘴",
            "Nanjing Road 南京路",
            "Xujiahui 徐家汇",
            "Jing'an 静安寺",
            "Wujiaochang 五角场",
            "Zhongshan Park 中山公园",
        ],
    ),
    "HZ": (
        "Hangzhou",
        "杭州",
        30.2741,
        120.1551,
        ["West Lake 西湖", "Wulin 武林", "Binjiang 滨江"],
    ),
    "NJ": (
        "Nanjing",
        "南京",
        32.0603,
        118.7969,
        ["Xinjiekou 新街口", "Hunan Road 湖南路", "Hexi 河西"],
    ),
    "GZ": (
        "Guangzhou",
        "广州",
        23.1291,
        113.2644,
        ["Tianhe 天河", "Beijing Road 北京路", "Zhujiang New Town 珠江新城", "Panyu 番禺"],
    ),
    "SZ": (
        "Shenzhen",
        "深圳",
        22.5431,
        114.0579,
        ["Futian 福田", "Nanshan 南山", "Luohu 罗湖", "Bao'an 宝安"],
    ),
    "CD": (
        "Chengdu",
        "成都",
        30.5728,
        104.0668,
        ["Chunxi Road 春熙路", "Taikoo Li 太古里", "Hi-tech Zone 高新区"],
    ),
}

# client code, English name, Chinese name, store format, regions -> areas -> cities
CLIENTS = [
    ("JADE", "Jade Mart", "翠玉超市", "supermarket", {
        ("NORTH", "North China 华北"): {("BJ-A", "Beijing area 北京片区"): ["BJ"], ("TJ-A", "Tianjin area 天津片区"): ["TJ"]},
        ("EAST", "East China 华东"): {("SH-A", "Shanghai area 上海片区"): ["SH"], ("ZJ-A", "Zhejiang & Jiangsu 江浙片区"): ["HZ", "NJ"]},
        ("SOUTH", "South China 华南"): {("GD-A", "Guangdong area 广东片区"): ["GZ", "SZ"]},
    }),
    ("EVER", "Evergreen Bank", "长青银行", "bank_branch", {
        ("NORTH", "North Division 北方分行"): {("BJ-B", "Beijing branches 北京支行"): ["BJ"]},
        ("SOUTH", "South Division 南方分行"): {("GZ-B", "Guangzhou branches 广州支行"): ["GZ"], ("SZ-B", "Shenzhen branches 深圳支行"): ["SZ"]},
        ("WEST", "West Division 西部分行"): {("CD-B", "Chengdu branches 成都支行"): ["CD"]},
    }),
]  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "静",
    "伟",
    "芳",
    "敏",
    "磊",
    "洋",
    "婷",
    "杰",
    "丽",
    "强",
    "燕",
    "涛",
    "琳",
    "浩",
    "雪",
    "鹏",
]


def _hours(fmt: str, rng: random.Random) -> dict[str, list[str] | None]:
    if fmt == "bank_branch":
        weekday = ["09:00", "17:00"]
        return dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday) | {
            "sat": ["09:30", "16:00"] if rng.random() < 0.6 else None,
            "sun": None,
        }
    opens = rng.choice(["07:30", "08:00", "08:30", "09:00"])
    closes = rng.choice(["21:30", "22:00", "22:30"])
    return {d: [opens, closes] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _build_client(spec: tuple, rng: random.Random) -> tuple[Client, list[Region], list[Store]]:  # type: ignore[type-arg]
    code, english, chinese, fmt, tree = spec
    client = org.save_client(
        None, {"code": code, "name": f"{english} {chinese}", "rotation_days": 90, "active": True}
    )
    client.adjusted_scores = code == "JADE"  # the demo shows shopper-adjusted scores
    regions, stores = [], []
    number = 0
    for (r_code, r_name), areas in tree.items():
        region = org.save_region(
            None, client, {"code": r_code, "name": r_name, "kind": "region", "active": True}
        )
        regions.append(region)
        for (a_code, a_name), cities in areas.items():
            area = org.save_region(
                None,
                client,
                {"code": a_code, "name": a_name, "kind": "area", "parent": region, "active": True},
            )
            regions.append(area)
            for city_code in cities:
                city, city_zh, lat, lng, districts = CITIES[city_code]
                for district in districts:
                    number += 1
                    district_en, district_zh = district.rsplit(" ", 1)
                    tier = "A" if number % 5 == 1 else ("B" if number % 5 in (2, 3) else "C")
                    stores.append(org.save_store(None, client, area, {
                        "code": f"{city_code}{number:03d}",
                        "name": f"{chinese}{district_zh}店 {english} {district_en}",
                        "address": f"{district_zh}{rng.randint(1, 399)}号, {city_zh}",
                        "city": city,
                        "latitude": Decimal(str(round(lat + rng.uniform(-0.08, 0.08), 6))),
                        "longitude": Decimal(str(round(lng + rng.uniform(-0.08, 0.08), 6))),
                        "timezone": "Asia/Shanghai", "format": fmt,
                        "ownership": rng.choice(["direct", "direct", "franchise", "managed"]),
                        "tier": tier, "opening_hours": _hours(fmt, rng),
                        "target_female_pct": rng.choice([45, 55, 60, 65]),
                        "target_age_bands": rng.sample(["18-24", "25-34", "35-44", "45-54"], 2),
                        "manager_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        "manager_phone": f"1{rng.randint(3, 9)}{rng.randint(100000000, 999999999)}",
                        "manager_email": f"{city_code.lower()}{number:03d}@{code.lower()}.example.com",
                        "notes": "", "status": "active",
                    }))  # fmt: skip
    # Enough stores for a real programme: a second ring of stores per client.
    for store in list(stores):
        if len(stores) >= 34:
            break
        number += 1
        twin = {k: getattr(store, k) for k in org.STORE_FIELDS if k not in ("code", "name")}
        twin["latitude"] = store.latitude + Decimal("0.012") if store.latitude else None
        stores.append(org.save_store(None, client, store.region, {
            **twin, "code": f"{store.code[:2]}{number:03d}",
            "name": store.name.replace("店 ", "二店 ", 1) + " II",
        }))  # fmt: skip
    return client, regions, stores


def _user(email: str, name: str, role: str, **extra: object) -> User:
    user = User(
        email=email, name=name, role=role, password_hash=hash_password(DEMO_PASSWORD), **extra
    )
    db.session.add(user)
    return user


def build_demo() -> list[tuple[str, str, str]]:
    """Builds the demo and returns (role, e-mail, password) for the printed logins."""
    rng = random.Random(20261124)
    built = [_build_client(spec, rng) for spec in CLIENTS]
    (jade, jade_regions, jade_stores), (ever, _ever_regions, _ever_stores) = built
    east = next(r for r in jade_regions if r.code == "EAST")

    _user("admin@demo.auditapp.cn", "Admin 管理员", ADMIN, can_export=True)
    coordinator = _user(
        "coordinator@demo.auditapp.cn", "周敏 Zhou Min", COORDINATOR, can_export=True
    )
    coordinator.clients = [jade, ever]
    reviewer = _user("reviewer@demo.auditapp.cn", "林涛 Lin Tao", REVIEWER)
    reviewer.clients = [jade, ever]
    manager = _user(
        "regional@demo.auditapp.cn",
        "陈静 Chen Jing",
        REGIONAL_MANAGER,
        client=jade,
        can_export=True,
    )
    manager.regions = [east]
    store_manager = _user("store@demo.auditapp.cn", "黄伟 Huang Wei", STORE_MANAGER, client=jade)

    cities = list(CITIES.items())
    for i in range(1, 29):
        city_code, (city, _zh, lat, lng, _d) = cities[i % len(cities)]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        profile = org.save_shopper(None, {
            "email": f"shopper{i:02d}@demo.auditapp.cn", "name": name,
            "gender": rng.choice(["female", "female", "male", "male", "undisclosed"]),
            "birth_year": rng.randint(1965, 2004), "home_city": city,
            "home_latitude": Decimal(str(round(lat + rng.uniform(-0.1, 0.1), 6))),
            "home_longitude": Decimal(str(round(lng + rng.uniform(-0.1, 0.1), 6))),
            "languages": ["zh", "en"] if i % 3 == 0 else ["zh"],
            "qualifications": rng.sample(["retail", "banking", "restaurant", "phone"], 2),
            "certification_level": rng.randint(1, 3), "reliability": rng.randint(60, 98),
            "active": i != 28, "notes": "",
            "conflict_clients": [ever] if i == 7 else [],
            "conflict_stores": [jade_stores[3]] if i == 5 else [],
        })  # fmt: skip
        profile.user.password_hash = hash_password(DEMO_PASSWORD)
        if i == 1:
            profile.user.email = "shopper@demo.auditapp.cn"
    build_waves(coordinator, [jade, ever])  # demo/waves.py: a closed and a running wave
    db.session.flush()
    submit_done_visits()  # demo/visits.py: the done visits filled in and submitted
    shopper_user = db.session.scalars(select(User).where(User.email == DEMO_SHOPPER)).one()
    review_demo(reviewer, coordinator, shopper_user, [jade, ever])  # demo/review.py
    store = demo_store(manager)  # one with findings to work on
    store_manager.stores = [store]
    follow_up_demo(coordinator, manager, store_manager, store, [jade, ever])  # demo/follow_up.py
    return [
        ("admin", "admin@demo.auditapp.cn", DEMO_PASSWORD),
        ("coordinator", "coordinator@demo.auditapp.cn", DEMO_PASSWORD),
        ("reviewer", "reviewer@demo.auditapp.cn", DEMO_PASSWORD),
        ("shopper", "shopper@demo.auditapp.cn", DEMO_PASSWORD),
        ("regional manager (Jade Mart, East China)", "regional@demo.auditapp.cn", DEMO_PASSWORD),
        (f"store manager ({store.code})", "store@demo.auditapp.cn", DEMO_PASSWORD),
    ]
