"""Every hard rule: one case that triggers it and one that does not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auditapp.scheduling import CODES, Rules, describe, explain, preference, rank
from tests.scheduling.helpers import MONDAY, at, shopper, visit

RULES = Rules(
    rotation_days_by_client={7: 30, 9: 0},  # client 9 lets a shopper return at once
    wave_start=MONDAY,
    wave_end=MONDAY + timedelta(days=27),
)
NORTH_20KM = 31.2304 + 20 / 111.2  # about 20 km north of the store
TUESDAY = MONDAY + timedelta(days=1)


def _set(*items: object) -> frozenset[object]:
    return frozenset(items)


# (rule, shopper changes that trigger it, changes that just miss it, visit changes)
CASES = [
    ("inactive", {"active": False}, {"active": True}, {}),
    ("conflict_client", {"conflict_clients": _set(7)}, {"conflict_clients": _set(8)}, {}),
    ("conflict_store", {"conflict_stores": _set(100)}, {"conflict_stores": _set(101)}, {}),
    (
        "rotation",
        {"last_visit_by_store": {100: MONDAY - timedelta(days=29)}},
        {"last_visit_by_store": {100: MONDAY - timedelta(days=30)}},
        {},
    ),
    (
        "rotation",  # a booking at the same store in another programme counts too
        {"existing": ((at(-20, 10), at(-20, 11), 100),)},
        {"existing": ((at(-30, 10), at(-30, 11), 100),)},
        {},
    ),
    (
        "same_store_in_wave",
        {"existing": ((at(3, 10), at(3, 11), 100),)},
        {"existing": ((at(3, 10), at(3, 11), 101),)},
        {"client_id": 9, "start": at(0, 10), "end": at(0, 11)},
    ),
    ("level", {"level": 1}, {"level": 2}, {"required_level": 2}),
    ("distance", {"lat": NORTH_20KM, "max_km": 19.0}, {"lat": NORTH_20KM, "max_km": 21.0}, {}),
    ("unavailable", {"unavailable_dates": _set(MONDAY)}, {"unavailable_dates": _set(TUESDAY)}, {}),
    (
        "capacity_day",
        {"per_day": 1, "existing": ((at(0, 15), at(0, 16), 101),)},
        {"per_day": 2, "existing": ((at(0, 15), at(0, 16), 101),)},
        {},
    ),
    (
        "capacity_week",
        {"per_week": 1, "existing": ((at(4, 15), at(4, 16), 101),)},
        {"per_week": 1, "existing": ((at(7, 15), at(7, 16), 101),)},  # next ISO week
        {},
    ),
    (
        "overlap",
        {"existing": ((at(0, 10, 30), at(0, 11, 30), 101),)},
        {"existing": ((at(0, 11), at(0, 12), 101),)},  # back to back is fine
        {},
    ),
]  # fmt: skip


def test_every_code_has_a_case() -> None:
    assert {case[0] for case in CASES} == set(CODES)


@pytest.mark.parametrize(("code", "hit", "miss", "slot"), CASES)
def test_rule_triggers_and_does_not(
    code: str, hit: dict[str, object], miss: dict[str, object], slot: dict[str, object]
) -> None:
    v = visit(**slot)
    reasons = explain(v, shopper(**hit), RULES)
    assert [r.code for r in reasons] == [code]
    assert reasons[0].text and "{" not in reasons[0].text
    assert explain(v, shopper(**miss), RULES) == []


def test_rotation_uses_the_client_setting_then_the_default() -> None:
    seen = shopper(last_visit_by_store={100: MONDAY - timedelta(days=45)})
    assert explain(visit(client_id=7), seen, RULES) == []  # client 7: 30 days
    assert [r.code for r in explain(visit(client_id=8), seen, RULES)] == ["rotation"]  # 90
    assert explain(visit(client_id=8), seen, Rules(default_rotation_days=45)) == []


def test_explain_lists_every_rule_that_applies() -> None:
    blocked = shopper(active=False, level=1, conflict_clients=frozenset({7}))
    codes = [r.code for r in explain(visit(required_level=3), blocked, RULES)]
    assert codes == ["inactive", "conflict_client", "level"]


def test_reason_text_is_plain_english_with_its_values() -> None:
    (reason,) = explain(visit(required_level=3), shopper(level=1), RULES)
    assert reason.text == "the visit needs level 3; the shopper is level 1"
    assert describe("level", {}) == "qualification level too low"  # missing values
    assert describe("made_up", {}) == "made_up"


def test_preference_prefers_the_target_customer_and_nearby() -> None:
    v = visit(target_female_pct=100.0, target_age_bands=("25-34",))
    fits = preference(v, shopper(gender="female", birth_year=1996))  # 30 at the visit
    assert fits == 100
    assert preference(v, shopper(gender="male", birth_year=1996)) < fits
    assert preference(v, shopper(gender="female", birth_year=1960)) < fits
    assert preference(v, shopper(lat=NORTH_20KM, max_km=40.0)) < fits


def test_age_bands_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="age band"):
        visit(target_age_bands=("young",))


def test_rank_orders_eligible_and_explains_the_rest() -> None:
    v = visit(target_female_pct=100.0)
    shoppers = [
        shopper(1, gender="male"),
        shopper(2, gender="female"),
        shopper(3, active=False),
        shopper(4, gender="female", existing=((at(1, 10), at(1, 11), 101),)),
    ]
    ranking = rank(v, shoppers, RULES)
    assert [r.shopper_id for r in ranking.eligible] == [2, 4, 1]  # 4 is as good, but busier
    assert [(e.shopper_id, [r.code for r in e.reasons]) for e in ranking.excluded] == [
        (3, ["inactive"])
    ]
