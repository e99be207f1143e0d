"""Calibration visits: a wave's chosen share of stores gets a second visit in the same
slot and window, and the two visits of a pair always go to two different shoppers."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from auditapp.errors import DomainError
from auditapp.extensions import db
from auditapp.models.waves import Visit, Wave
from auditapp.services.waves import assignments, scheduling
from auditapp.services.waves import setup as waves
from auditapp.services.waves.plan import PlannedVisit, calibration_visits
from tests.conftest import login
from tests.web.worlds.waves import form_data, make_wave, post
from tests.web.worlds.waves import world as world  # noqa: F401 (client X with 40 stores)


def _planned(stores: int, per_store: int = 2) -> tuple[list[PlannedVisit], dict[int, str]]:
    start = datetime(2031, 3, 3, 4, tzinfo=UTC)
    planned = [
        PlannedVisit(sid, ("midday", "peak")[j % 2], start + timedelta(days=sid * 3 + j),
                     start + timedelta(days=sid * 3 + j, hours=2))
        for sid in range(1, stores + 1) for j in range(per_store)
    ]  # fmt: skip
    # Codes sort the other way round from ids, so "code order" is really tested.
    return planned, {sid: f"S{100 - sid:03d}" for sid in range(1, stores + 1)}


@pytest.mark.parametrize(("stores", "share", "expected"), [
    (10, 30, 3), (7, 30, 2), (5, 50, 2), (3, 50, 1), (40, 25, 10), (10, 0, 0), (1, 50, 0),
    (2, 50, 1),
])  # fmt: skip
def test_the_share_of_stores_is_rounded_by_largest_remainder(stores, share, expected):
    planned, codes = _planned(stores)
    doubles = calibration_visits(planned, codes, share)
    assert len(doubles) == expected
    assert len({d.store_id for d in doubles}) == expected  # one second visit per store


def test_pairs_copy_a_planned_visit_and_spread_through_the_code_order():
    planned, codes = _planned(10)
    doubles = calibration_visits(planned, codes, 30)
    for double in doubles:
        assert double in planned  # same store, slot and window as one planned visit
    ranks = sorted(sorted(codes.values()).index(codes[d.store_id]) for d in doubles)
    assert ranks != [0, 1, 2]  # not simply the first codes
    assert max(b - a for a, b in zip(ranks, ranks[1:], strict=False)) <= 4
    assert Counter(d.slot for d in doubles).keys() == {"midday", "peak"}  # copies vary
    again = calibration_visits(list(reversed(planned)), codes, 30)
    assert {d.store_id for d in again} == {d.store_id for d in doubles}  # any input order


def test_generating_a_waves_visits_adds_the_calibration_visits(world):
    scope = {"stores": [s.id for s in world.stores[:10]]}
    wave = make_wave(world, scope=scope, calibration_share=30)
    visits, _unplaced = waves.generate_visits(wave, world.coordinator)
    db.session.commit()
    extra = [v for v in visits if v.calibration]
    planned = [v for v in visits if not v.calibration]
    expected = sum(wave.visits_per_tier[s.tier] for s in world.stores[:10])
    assert len(planned) == expected
    assert len(extra) == 3 and len({v.store_id for v in extra}) == 3
    for double in extra:
        twin = [
            v for v in planned
            if (v.store_id, v.slot, v.window_start, v.window_end)
            == (double.store_id, double.slot, double.window_start, double.window_end)
        ]  # fmt: skip
        assert len(twin) == 1


def test_no_calibration_visits_without_a_share(world):
    wave = make_wave(world, scope={"stores": [s.id for s in world.stores[:10]]})
    visits, _ = waves.generate_visits(wave, world.coordinator)
    assert wave.calibration_share == 0
    assert not any(v.calibration for v in visits)


def test_the_share_is_set_on_the_wave_form_within_0_to_50(client, world):
    web = login(client, world.coordinator)
    assert "Calibration visits: share of stores (%)" in web.get("/waves/new").text
    response = post(web, "/waves/new", form_data(world, calibration_share="30"))
    assert response.status_code == 302, response.text
    wave = db.session.scalars(select(Wave).where(Wave.name == "April 2031")).one()
    assert wave.calibration_share == 30
    refused = post(web, "/waves/new", form_data(world, calibration_share="60", name="Too many"))
    assert refused.status_code == 422
    assert db.session.scalars(select(Wave).where(Wave.name == "Too many")).first() is None


def _pair(world):
    """A one-store wave with a calibration pair, and three shoppers close by."""
    two = [world.stores[0].id, world.stores[8].id]
    wave = make_wave(world, scope={"stores": two}, calibration_share=50,
                     visits_per_tier={"A": 1, "B": 1, "C": 1})  # fmt: skip
    visits, _ = waves.generate_visits(wave, world.coordinator)
    db.session.commit()
    double = next(v for v in visits if v.calibration)
    first = next(v for v in visits if not v.calibration and v.store_id == double.store_id)
    return wave, first, double


@pytest.fixture
def shoppers(make_shopper):
    found = []
    for i in range(3):
        profile = make_shopper(
            f"cal{i}@example.com", certification_level=3,
            home_latitude=Decimal("31.230400"), home_longitude=Decimal("121.473700"),
        )  # fmt: skip
        profile.max_travel_km = 40
        found.append(profile)
    db.session.commit()
    return found


def test_one_shopper_cannot_take_both_visits_of_a_pair(world, shoppers):
    _wave, first, double = _pair(world)
    me = shoppers[0]
    assert scheduling.exclusion_reasons(first, me) == []
    assignments.take_visit(first.id, me, None, "accepted")
    db.session.commit()
    reasons = scheduling.exclusion_reasons(double, me)
    assert reasons, "the second visit of the pair must be refused to the same shopper"
    with pytest.raises(DomainError):
        assignments.claim(db.session.get(Visit, double.id), me, reasons)
    assert scheduling.exclusion_reasons(double, shoppers[1]) == []


def test_auto_schedule_gives_each_pair_two_shoppers(world, shoppers):
    wave, first, double = _pair(world)
    outcome = scheduling.schedule_wave(wave, world.coordinator, time_limit=5)
    db.session.commit()
    assert outcome.written >= 2
    db.session.refresh(first)
    db.session.refresh(double)
    assert first.shopper_id is not None and double.shopper_id is not None
    assert first.shopper_id != double.shopper_id


def test_calibration_visits_are_marked_on_the_wave_board(client, world):
    _wave, _first, double = _pair(world)
    page = login(client, world.coordinator).get(f"/waves/{double.wave_id}/board")
    row = page.text.split(f'data-visit="{double.id}"')[1].split("</tr>")[0]
    assert "Calibration" in row
    plain = [v for v in double.wave.visits if not v.calibration][0]
    other = page.text.split(f'data-visit="{plain.id}"')[1].split("</tr>")[0]
    assert "Calibration" not in other
    assert date(2031, 3, 1) <= double.window_start.date() <= date(2031, 3, 31)
