"""The acceptance test of auto-scheduling: a 40-store wave (tiers A 4, B 2, C 1 visits,
slot quotas) is generated and auto-scheduled through the coordinator's pages against
a realistic pool of 30 shoppers, then

* every visit either has a shopper or is listed on the result page with its reason;
* every hard rule holds on what was stored, checked by the independent checker below
  (its own haversine, its own day and week arithmetic in the store's time zone, read
  straight from the database; nothing of the engine is reused);
* each assigned shopper got the assignment e-mail.
"""

import math
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditapp.extensions import db
from auditapp.models import OutboxMail, ShopperProfile
from auditapp.models.waves import (
    ACCEPTED,
    APPROVED,
    ASSIGNED,
    PLANNED,
    ShopperAbsence,
    Visit,
    Wave,
)
from auditapp.services.waves import setup as waves
from tests.conftest import login
from tests.web.statuses import new_visit
from tests.web.worlds.waves import MARCH, make_wave, post
from tests.web.worlds.waves import world as world  # noqa: F401 (client X with 40 stores)

SUZHOU = (Decimal("31.298900"), Decimal("120.585300"))  # ~85 km from the pool's homes
RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
HOLDING = ("assigned", "accepted", "in_progress", "submitted", "in_review", "returned",
           "approved")  # fmt: skip


def km_between(lat1, lng1, lat2, lng2):
    """Great-circle distance by the haversine formula."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlmb = math.radians(float(lng2) - float(lng1))
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * RADIUS_KM * math.asin(math.sqrt(h))


def local_day(visit):
    return visit.window_start.astimezone(ZoneInfo(visit.store.timezone)).date()


def _booking(wave, store, shopper, day, status, start_hour=12):
    zone = ZoneInfo(store.timezone)
    start = datetime(day.year, day.month, day.day, start_hour, tzinfo=zone)
    return new_visit(
        status, shopper.id,
        wave=wave, store=store, checklist_version=wave.checklist_version, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        approved_at=start if status == "approved" else None,
    )  # fmt: skip


@pytest.fixture
def pool(world, make_shopper):
    """30 shoppers living around central Shanghai, with every complication a real pool
    has: two inactive, five below the wave's level, conflicts of interest with the
    client and with single stores, absences in March, recent visits to stores of the
    wave (client X's rotation is 150 days; one visit is 130 days back), and bookings
    for client Y in March that use up days, weeks and time."""
    rng = random.Random(20310301)
    world.x.rotation_days = 150
    for store in world.stores[38:]:  # two stores in Suzhou, beyond everyone's reach
        store.latitude, store.longitude, store.city = *SUZHOU, "Suzhou"
    shoppers = []
    for i in range(30):
        profile = make_shopper(
            f"shopper{i:02d}@example.com", name=f"Shopper {i:02d}",
            gender=("female", "male", "undisclosed")[i % 3],
            birth_year=1965 + (i * 7) % 38,
            certification_level=1 if i % 6 == 5 else 2 + i % 3,
            home_latitude=Decimal("31.230400") + Decimal(rng.randint(-900, 900)) / 10000,
            home_longitude=Decimal("121.473700") + Decimal(rng.randint(-1100, 1100)) / 10000,
        )  # fmt: skip
        profile.max_travel_km = rng.choice((8, 12, 15, 20, 30, 40))
        profile.max_visits_per_day = 1 + i % 2
        profile.max_visits_per_week = max(profile.max_visits_per_day, 2 + i % 4)
        shoppers.append(profile)
    shoppers[0].active = False
    shoppers[1].user.active = False
    shoppers[2].conflicts = []
    from auditapp.services.org.records import set_conflicts

    set_conflicts(shoppers[2], [world.x], [])
    set_conflicts(shoppers[3], [], world.stores[:6])
    set_conflicts(shoppers[4], [], world.stores[10:20])
    for k, i in enumerate(range(6, 11)):
        first = date(2031, 3, 3 + 5 * k)
        absence = ShopperAbsence(
            shopper_id=shoppers[i].id, first_day=first, last_day=first + timedelta(days=4)
        )
        db.session.add(absence)
    # History: client X's February wave, and one visit in October (130 days back).
    february = waves.save_wave(None, world.x, world.published, {
        "name": "February 2031", "cadence": "monthly",
        "starts_on": date(2031, 2, 1), "ends_on": date(2031, 2, 28), "scope": {"tiers": ["A"]},
    })  # fmt: skip
    for i in range(11, 23):
        for n in range(3):
            store = world.stores[(i * 5 + n * 7) % 38]
            _booking(february, store, shoppers[i], date(2031, 2, 2 + i + n * 1), APPROVED)
    october = waves.save_wave(None, world.x, world.published, {
        "name": "October 2030", "cadence": "monthly",
        "starts_on": date(2030, 10, 1), "ends_on": date(2030, 10, 31), "scope": {"tiers": ["A"]},
    })  # fmt: skip
    for i in range(23, 30):
        _booking(october, world.stores[i - 23], shoppers[i], date(2030, 10, 22), APPROVED)
    # Client Y's visits in March take days, weeks and hours of some shoppers.
    wave_y = waves.save_wave(None, world.y, world.published_y, {
        "name": "Y March", "cadence": "monthly", "starts_on": MARCH[0], "ends_on": MARCH[1],
    })  # fmt: skip
    for i in range(12, 30, 2):
        for day in (3, 4, 5, 11, 12, 18):
            _booking(wave_y, world.store_y, shoppers[i], date(2031, 3, day), ACCEPTED,
                     start_hour=10 + i % 9)  # fmt: skip
    db.session.commit()
    return shoppers


def check_hard_rules(wave_id):
    """Every hard rule on the stored schedule; returns the violations in words."""
    wave = db.session.get(Wave, wave_id)
    mine = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store))
        .where(Visit.wave_id == wave_id, Visit.shopper_id.is_not(None), Visit.status.in_(HOLDING))
    ).all()
    held = defaultdict(list)  # every visit (any wave) that holds a shopper's time
    for v in db.session.scalars(
        select(Visit).options(selectinload(Visit.store)).where(Visit.status.in_(HOLDING))
    ):
        held[v.shopper_id].append(v)
    shoppers = {
        p.id: p
        for p in db.session.scalars(
            select(ShopperProfile).options(
                selectinload(ShopperProfile.user), selectinload(ShopperProfile.conflicts)
            )
        )
    }
    absences = defaultdict(list)
    for a in db.session.scalars(select(ShopperAbsence)):
        absences[a.shopper_id].append((a.first_day, a.last_day))
    problems = []
    per_store_in_wave = Counter((v.shopper_id, v.store_id) for v in mine)
    for v in mine:
        s, store = shoppers[v.shopper_id], v.store
        day, who = local_day(v), f"visit {v.id} by shopper {v.shopper_id}"
        if not (s.active and s.user.active):
            problems.append(f"{who}: shopper not active")
        if any(c.client_id == store.client_id or c.store_id == store.id for c in s.conflicts):
            problems.append(f"{who}: conflict of interest")
        rotation = store.client.rotation_days
        for other in held[s.id]:
            apart = abs((local_day(other) - day).days)
            if other.id != v.id and other.store_id == store.id and apart < rotation:
                problems.append(f"{who}: same store {other.id} within {rotation} days")
        if per_store_in_wave[(s.id, store.id)] > 1:
            problems.append(f"{who}: store twice in one wave")
        if s.certification_level < wave.required_level:
            problems.append(f"{who}: level {s.certification_level}")
        km = km_between(s.home_latitude, s.home_longitude, store.latitude, store.longitude)
        if km > min(s.max_travel_km, wave.max_travel_km) + 1e-9:
            problems.append(f"{who}: {km:.1f} km away")
        same_day = [o for o in held[s.id] if local_day(o) == day]
        if len(same_day) > s.max_visits_per_day:
            problems.append(f"{who}: {len(same_day)} visits on {day}")
        week = day.isocalendar()[:2]
        same_week = [o for o in held[s.id] if local_day(o).isocalendar()[:2] == week]
        if len(same_week) > s.max_visits_per_week:
            problems.append(f"{who}: {len(same_week)} visits in week {week}")
        for other in held[s.id]:
            overlaps = other.window_start < v.window_end and v.window_start < other.window_end
            if other.id != v.id and overlaps:
                problems.append(f"{who}: overlaps visit {other.id}")
        if any(first <= day <= last for first, last in absences[s.id]):
            problems.append(f"{who}: absent on {day}")
    return problems


def test_a_40_store_wave_is_auto_scheduled_and_every_hard_rule_holds(client, world, pool):
    wave = make_wave(world, scope={"regions": [world.north.id, world.south.id]})
    assert len(wave.stores) == 40
    web = login(client, world.coordinator)
    generated = post(web, f"/waves/{wave.id}/generate")
    assert "76 visits generated" in generated.text
    page = post(web, f"/waves/{wave.id}/auto-schedule")
    assert page.status_code == 200

    db.session.expire_all()
    visits = db.session.scalars(select(Visit).where(Visit.wave_id == wave.id)).all()
    assert len(visits) == 76
    filled = [v for v in visits if v.shopper_id is not None]
    assert all(v.status == ASSIGNED for v in filled)
    headline = re.search(r'<h2 id="schedule-title">([^<]*)</h2>', page.text).group(1)
    assert f"{len(filled)} of 76 visits filled" in headline

    # Every visit has a shopper or is listed with the rule that blocked it.
    listed = dict(re.findall(
        r'<tr id="unfilled-(\d+)">.*?<td class="wv-reason">([^<]+)</td>', page.text, re.S
    ))  # fmt: skip
    for v in visits:
        if v.shopper_id is None:
            assert v.status == PLANNED
            assert str(v.id) in listed and listed[str(v.id)].strip(), f"visit {v.id} unexplained"
        else:
            assert str(v.id) not in listed
    suzhou = {s.id for s in world.stores[38:]}
    for v in visits:
        if v.store_id in suzhou:
            assert v.shopper_id is None and "too far from home" in listed[str(v.id)]
    assert len(filled) >= 60, f"only {len(filled)} of 76 filled"  # the pool can do most

    assert check_hard_rules(wave.id) == []

    # Each assignment was mailed to its shopper.
    mails = Counter(db.session.scalars(select(OutboxMail.to)))
    emails = Counter(v.shopper.user.email for v in filled)
    assert mails == emails

    # Running again fills nothing new and breaks nothing.
    again = post(web, f"/waves/{wave.id}/auto-schedule")
    assert again.status_code == 200
    assert check_hard_rules(wave.id) == []


def test_the_checker_catches_broken_rules(world, pool):
    """The checker is only worth something if it can fail: break rules by hand."""
    wave = make_wave(world, scope={"stores": [world.stores[0].id, world.stores[38].id]})
    visits, _ = waves.generate_visits(wave, world.coordinator)
    db.session.flush()
    visits.sort(key=lambda v: v.window_start)
    conflicted, inactive = pool[3], pool[0]  # pool[3] may not shop stores 0-5
    visits[0].shopper_id, visits[0].status = conflicted.id, ASSIGNED
    far = next(v for v in visits if v.store_id == world.stores[38].id)
    far.shopper_id, far.status = inactive.id, ASSIGNED
    db.session.flush()
    problems = " | ".join(check_hard_rules(wave.id))
    assert "conflict of interest" in problems
    assert "not active" in problems and "km away" in problems


def test_rotation_looks_back_as_far_as_the_clients_rotation(client, world, pool):
    """Client X's rotation is 150 days: shopper 24's visit to store 1 on 22 October
    still keeps them off that store in early March (about 130 days later)."""
    wave = make_wave(world, scope={"stores": [world.stores[1].id]})
    visits, _ = waves.generate_visits(wave, world.coordinator)
    db.session.commit()
    first = min(visits, key=lambda v: v.window_start)
    page = login(client, world.coordinator).get(f"/waves/visits/{first.id}")
    excluded = re.search(r'<details id="excluded">(.*?)</details>', page.text, re.S).group(1)
    line = re.search(rf'data-shopper="{pool[24].id}">(.*?)</li>', excluded, re.S).group(1)
    days = (local_day(first) - date(2030, 10, 22)).days
    assert f"shopped this store on 2030-10-22, {days} days from this visit" in line
    assert "needs 150 days" in line
