"""Placing visits in time: slot windows inside opening hours, quotas, spread."""

from collections import Counter
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from auditapp.services.waves.plan import (
    WEEKDAY_KEYS,
    StorePlanInput,
    apportion,
    plan_visits,
    slot_times,
    slot_window,
)

RETAIL = ["08:00", "22:00"]
BANK = ["09:00", "17:00"]
MONDAY, SATURDAY = date(2026, 12, 7), date(2026, 12, 12)


@pytest.mark.parametrize(
    ("hours", "day", "slot", "expected"),
    [
        (RETAIL, MONDAY, "opening", (time(8), time(9))),
        (RETAIL, MONDAY, "closing", (time(21), time(22))),
        (RETAIL, MONDAY, "midday", (time(11, 30), time(13, 30))),
        (RETAIL, MONDAY, "peak", (time(17), time(19))),
        (RETAIL, SATURDAY, "peak", (time(14), time(17))),
        # A bank closes at 17:00: its peak is the two hours before the last hour.
        (BANK, MONDAY, "peak", (time(14), time(16))),
        (["12:00", "12:30"], MONDAY, "midday", None),  # under 45 minutes: no slot
        (None, MONDAY, "opening", None),  # closed that day
    ],
)
def test_slot_windows_follow_opening_hours(hours, day, slot, expected):
    assert slot_times(hours, day, slot) == expected


def test_slot_window_is_converted_from_store_time_to_utc():
    hours = dict.fromkeys(WEEKDAY_KEYS, RETAIL)
    start, end = slot_window(hours, "Asia/Shanghai", MONDAY, "opening")
    assert start.isoformat() == "2026-12-07T00:00:00+00:00"
    assert end.isoformat() == "2026-12-07T01:00:00+00:00"


def test_apportion_uses_largest_remainders_and_keeps_the_total():
    assert apportion(95, {"opening": 25, "midday": 25, "peak": 30, "closing": 20}) == {
        "opening": 24, "midday": 24, "peak": 28, "closing": 19,
    }  # fmt: skip
    assert sum(apportion(7, {"a": 1, "b": 1, "c": 1}).values()) == 7


def _stores(n, hours=RETAIL, closed=()):
    week = {d: (None if d in closed else hours) for d in WEEKDAY_KEYS}
    return [
        StorePlanInput(i, f"S{i:03d}", (4, 2, 1)[i % 3], "Asia/Shanghai", week) for i in range(n)
    ]


def test_quotas_hold_for_the_whole_wave():
    quotas = {"opening": 25, "midday": 25, "peak": 30, "closing": 20}
    planned, unplaced = plan_visits(_stores(40), date(2026, 12, 1), date(2026, 12, 31), quotas, 30)
    total = sum(s.visits for s in _stores(40))
    assert unplaced == [] and len(planned) == total
    assert Counter(p.slot for p in planned) == Counter(apportion(total, quotas))
    shanghai = ZoneInfo("Asia/Shanghai")
    weekend = sum(1 for p in planned if p.start.astimezone(shanghai).weekday() >= 5)
    assert weekend == apportion(total, {"weekend": 30, "weekday": 70})["weekend"]


def test_every_visit_lies_inside_its_stores_opening_hours_and_the_period():
    planned, _ = plan_visits(
        _stores(12, BANK, closed=("sat", "sun")), date(2026, 12, 1), date(2026, 12, 31),
        {"opening": 25, "midday": 25, "peak": 25, "closing": 25}, 30,
    )  # fmt: skip
    shanghai = ZoneInfo("Asia/Shanghai")
    for visit in planned:
        local_start, local_end = visit.start.astimezone(shanghai), visit.end.astimezone(shanghai)
        assert local_start.weekday() < 5  # the bank is closed at weekends
        assert time(9) <= local_start.time() and local_end.time() <= time(17)
        assert date(2026, 12, 1) <= local_start.date() <= date(2026, 12, 31)


def test_a_stores_visits_are_spread_across_the_period():
    store = [StorePlanInput(1, "S001", 4, "Asia/Shanghai", dict.fromkeys(WEEKDAY_KEYS, RETAIL))]
    planned, _ = plan_visits(store, date(2026, 12, 1), date(2026, 12, 28), {"midday": 100}, 0)
    days = sorted(p.start.date() for p in planned)
    assert [(b - a).days >= 4 for a, b in zip(days, days[1:], strict=False)] == [True] * 3


def test_a_slot_the_store_never_has_is_reported_not_invented():
    store = [StorePlanInput(1, "S001", 1, "Asia/Shanghai", dict.fromkeys(WEEKDAY_KEYS, None))]
    planned, unplaced = plan_visits(store, date(2026, 12, 1), date(2026, 12, 7), {"peak": 100}, 0)
    assert planned == [] and unplaced == [(1, "peak")]
