"""The 40-store wave world, shared by the wave screen, schedule and calibration visit
tests: ``world`` builds client X with a region tree and 40 stores in Shanghai (8 of
tier A, 12 of B, 20 of C) plus 2 in Hangzhou, client Y with one store, and a published
checklist version for each client; ``make_wave`` sets up a March 2031 wave over it."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from auditapp.extensions import db
from auditapp.services.checklists import versions as checklists
from auditapp.services.waves import setup as waves
from auditapp.services.waves.plan import WEEKDAY_KEYS
from tests.conftest import csrf_token

MARCH = (date(2031, 3, 1), date(2031, 3, 31))  # a Saturday to a Monday
DOCUMENT = {
    "title": "Store visit",
    "sections": [{"key": "s", "title": "Service", "questions": [
        {"key": "greeted", "text": "Were you greeted?", "type": "yes_no"},
    ]}],
}  # fmt: skip
RETAIL = dict.fromkeys(WEEKDAY_KEYS, ["09:00", "21:00"])
CONVENIENCE = dict.fromkeys(WEEKDAY_KEYS, ["07:00", "23:00"])  # opens before 08:00 = UTC's day
BANK = {**dict.fromkeys(WEEKDAY_KEYS[:5], ["09:00", "17:00"]), "sat": None, "sun": None}


def _store_spec(i):
    """Store i of 40: tier, format, opening hours and a spot within ~12 km of the centre."""
    tier = "A" if i < 8 else "B" if i < 20 else "C"
    kind = i % 5
    fmt, hours = [
        ("supermarket", RETAIL), ("convenience", CONVENIENCE), ("specialty", RETAIL),
        ("bank_branch", BANK), ("restaurant", RETAIL),
    ][kind]  # fmt: skip
    lat = Decimal("31.230400") + Decimal((i % 7) - 3) * Decimal("0.030000")
    lng = Decimal("121.473700") + Decimal((i % 9) - 4) * Decimal("0.030000")
    return tier, fmt, hours, lat, lng


@pytest.fixture
def world(make_client, make_region, make_store, make_user):
    x = make_client("X", name="Client X")
    y = make_client("Y", name="Client Y")
    north = make_region(x, "NORTH", name="North")
    north_east = make_region(x, "NE", parent=north, name="North-east", kind="area")
    south = make_region(x, "SOUTH", name="South")
    east = make_region(x, "EAST", name="Hangzhou")
    region_y = make_region(y, "YREG", name="Y region")
    stores = []
    for i in range(40):
        tier, fmt, hours, lat, lng = _store_spec(i)
        region = (north, north_east, south)[i % 3]
        stores.append(
            make_store(
                x,
                region,
                f"X{i:02d}",
                tier=tier,
                format=fmt,
                opening_hours=hours,
                latitude=lat,
                longitude=lng,
                target_female_pct=(30, 50, 70)[i % 3],
                target_age_bands=[("18-24", "25-34", "35-44")[i % 3]],
            )  # fmt: skip
        )
    remote = [
        make_store(x, east, f"H{i}", tier="B", opening_hours=RETAIL, city="Hangzhou",
                   latitude=Decimal("30.274100"), longitude=Decimal("120.155100"))
        for i in range(2)
    ]  # fmt: skip
    closed = make_store(x, south, "XCLOSED", status="closed")
    store_y = make_store(y, region_y, "Y1", name="Y one")
    admin = make_user("admin@example.com", "admin")
    coordinator = make_user("coord.x@example.com", "coordinator", clients=[x])
    other = make_user("coord.y@example.com", "coordinator", clients=[y])
    checklist = checklists.create_checklist(x, "", coordinator, DOCUMENT)
    db.session.flush()
    published = checklists.publish(checklists.draft_of(checklist), coordinator)
    db.session.flush()
    draft = checklists.start_new_version(checklist, coordinator)
    checklist_y = checklists.create_checklist(y, "", other, DOCUMENT)
    db.session.flush()
    published_y = checklists.publish(checklists.draft_of(checklist_y), other)
    db.session.commit()  # a view's rollback (a refused change) must not undo the fixtures
    return SimpleNamespace(
        x=x, y=y, north=north, north_east=north_east, south=south, east=east,
        stores=stores, remote=remote, closed=closed, store_y=store_y, admin=admin,
        coordinator=coordinator, other=other, published=published, draft=draft,
        published_y=published_y,
    )  # fmt: skip


def make_wave(world, **overrides):
    data = {
        "name": "March 2031", "cadence": "monthly", "starts_on": MARCH[0], "ends_on": MARCH[1],
        "required_level": 2, "max_travel_km": 25, "weekend_share": 30,
        "visits_per_tier": {"A": 4, "B": 2, "C": 1},
        "slot_quotas": {"opening": 25, "midday": 25, "peak": 30, "closing": 20},
        "scope": {"regions": [world.north.id, world.south.id, world.east.id]},
        **overrides,
    }  # fmt: skip
    wave = waves.save_wave(None, world.x, world.published, data)
    db.session.commit()
    return wave


def post(web, url, data=None):
    return web.post(url, data={"csrf_token": csrf_token(web), **(data or {})})


def form_data(world, **overrides):
    data = {
        "client_id": world.x.id, "checklist_version_id": world.published.id,
        "name": "April 2031", "cadence": "monthly",
        "starts_on": "2031-04-01", "ends_on": "2031-04-30",
        "regions": [world.north.id], "tiers": ["A", "B"], "formats": [], "store_codes": "",
        "visits_a": "4", "visits_b": "2", "visits_c": "1",
        "share_opening": "25", "share_midday": "25", "share_peak": "30", "share_closing": "20",
        "weekend_share": "30", "fee": "80.00", "expense_cap": "50.00", "currency": "CNY",
        "required_level": "2", "max_travel_km": "25", "claim_limit": "3",
        "min_duration_minutes": "15", "allow_audio": "y",
        "scenario": "Ask for a gift for a 60-year-old", "purchase": "One tea set",
        "questions_to_ask": "Is there a warranty?",
    }  # fmt: skip
    data.update(overrides)
    return data
