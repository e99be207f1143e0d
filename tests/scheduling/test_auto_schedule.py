"""auto_schedule: optimal fill, every hard rule kept, and honest reasons."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace

import pytest

from auditapp.scheduling import Rules, auto_schedule, explain, preference
from auditapp.scheduling.pairs import Screen
from tests.scheduling.helpers import at, random_instance, shopper, violations, visit

RULES = Rules()


def _greedy_by_order(visits, shoppers, rules):  # type: ignore[no-untyped-def]
    """What a simple loop would do: each visit in turn to its best free shopper."""
    taken: dict[int, int] = {}
    for v in visits:
        for s in sorted(shoppers, key=lambda s: -preference(v, s)):
            trial = replace(s, existing=s.existing + tuple(
                (o.start, o.end, o.store_id) for o in visits if taken.get(o.id) == s.id
            ))  # fmt: skip
            if not explain(v, trial, rules):
                taken[v.id] = s.id
                break
    return taken


def test_solver_fills_more_than_greedy_by_order() -> None:
    visits = [
        visit(1, store_id=100, target_female_pct=100.0, start=at(0, 10), end=at(0, 11)),
        visit(2, store_id=101, required_level=2, start=at(0, 15), end=at(0, 16)),
    ]
    shoppers = [
        shopper(1, gender="female", level=2, per_day=1),  # the best fit for visit 1...
        shopper(2, gender="male", level=1),  # ...but only shopper 2 could take it instead
    ]
    assert len(_greedy_by_order(visits, shoppers, RULES)) == 1
    result = auto_schedule(visits, shoppers, RULES)
    assert {(a.visit_id, a.shopper_id) for a in result.assignments} == {(1, 2), (2, 1)}
    assert result.unfilled == ()
    assert result.stats.optimal_components == result.stats.components == 1


def _brute_force(visits, shoppers, rules):  # type: ignore[no-untyped-def]
    """(most visits fillable, most preference at that fill), trying every schedule."""
    from auditapp.scheduling import Assignment, Result, Stats

    best = (0, 0)
    options = [[None, *shoppers] for _ in visits]
    for combo in itertools.product(*options):
        chosen = [(v, s) for v, s in zip(visits, combo, strict=True) if s is not None]
        fake = Result(
            tuple(Assignment(v.id, s.id, 0) for v, s in chosen),
            (),
            Stats(0, 0, 0, 0, 0, 0, 0, 0, 0),
        )
        if violations(fake, visits, shoppers, rules):
            continue
        best = max(best, (len(chosen), sum(preference(v, s) for v, s in chosen)))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_tiny_instances_match_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    visits, shoppers, rules = random_instance(rng, n_visits=4, n_shoppers=3, n_stores=2, days=2)
    rules = replace(rules, fairness_weight=0)  # brute force scores preference alone
    filled, pref = _brute_force(visits, shoppers, rules)
    result = auto_schedule(visits, shoppers, rules)
    assert violations(result, visits, shoppers, rules) == []
    assert (result.stats.filled, result.stats.preference_total) == (filled, pref)


@pytest.mark.parametrize("seed", range(25))
def test_random_waves_keep_every_hard_rule(seed: int) -> None:
    rng = random.Random(1000 + seed)
    visits, shoppers, rules = random_instance(rng, n_visits=40, n_shoppers=8)
    result = auto_schedule(visits, shoppers, rules)
    assert violations(result, visits, shoppers, rules) == []
    assert result.stats.filled + len(result.unfilled) == len(visits)
    assert result.stats.filled <= result.stats.fill_upper_bound
    _check_unfilled_reasons(result, visits, shoppers, rules)


def _check_unfilled_reasons(result, visits, shoppers, rules) -> None:  # type: ignore[no-untyped-def]
    """An unfilled visit either has nobody eligible (and the reason is the most common
    rule), or every eligible shopper is busy: adding them would break a rule."""
    by_id = {v.id: v for v in visits}
    for u in result.unfilled:
        v = by_id[u.visit_id]
        eligible = [s for s in shoppers if not explain(v, s, rules)]
        params = dict(u.params)
        if not eligible:
            counts = Counter(
                code for s in shoppers for code in {r.code for r in explain(v, s, rules)}
            )
            assert counts[u.reason_code] == max(counts.values()) == params["count"]
            assert params["total"] == len(shoppers)
            continue
        assert u.reason_code in {"capacity_day", "capacity_week", "overlap", "same_store_in_wave"}
        assert params["eligible"] == len(eligible)
        for s in eligible:
            extra = replace(result, assignments=(*result.assignments, _assign(v.id, s.id)))
            assert violations(extra, visits, shoppers, rules), f"visit {v.id} fits shopper {s.id}"


def _assign(visit_id: int, shopper_id: int):  # type: ignore[no-untyped-def]
    from auditapp.scheduling import Assignment

    return Assignment(visit_id, shopper_id, 0)


@pytest.mark.parametrize("seed", range(10))
def test_bulk_screen_agrees_with_explain(seed: int) -> None:
    rng = random.Random(2000 + seed)
    visits, shoppers, rules = random_instance(rng, n_visits=30, n_shoppers=12)
    screen = Screen(shoppers, rules)
    for vi, v in enumerate(visits):
        bulk = {p.shopper for p in screen.pairs(vi, v)}
        assert bulk == {i for i, s in enumerate(shoppers) if not explain(v, s, rules)}
        expected = Counter(
            code for s in shoppers for code in {r.code for r in explain(v, s, rules)}
        )
        assert screen.reason_counts(v) == expected


def test_same_input_in_any_order_gives_the_same_schedule() -> None:
    visits, shoppers, rules = random_instance(random.Random(7), n_visits=60, n_shoppers=10)
    first = auto_schedule(visits, shoppers, rules)
    rng = random.Random(8)
    rng.shuffle(visits)
    rng.shuffle(shoppers)
    again = auto_schedule(visits, shoppers, rules)
    assert (again.assignments, again.unfilled) == (first.assignments, first.unfilled)


def test_nobody_qualified_reports_the_commonest_rule() -> None:
    shoppers = [shopper(1), shopper(2), shopper(3, active=False, level=3)]
    result = auto_schedule([visit(required_level=2)], shoppers, RULES)
    (u,) = result.unfilled
    assert (u.reason_code, dict(u.params)) == ("level", {"count": 2, "total": 3})
    assert u.reason_text == (
        "No shopper may do this visit; most often: qualification level too low (2 of 3 shoppers)."
    )


def test_overlap_keeps_the_only_shopper_to_one_visit() -> None:
    visits = [visit(1, store_id=100), visit(2, store_id=101, start=at(0, 10, 30), end=at(0, 12))]
    result = auto_schedule(visits, [shopper(1)], RULES)
    assert len(result.assignments) == 1
    (u,) = result.unfilled
    assert (u.reason_code, dict(u.params)) == ("overlap", {"count": 1, "eligible": 1})
    assert "fully booked" in u.reason_text


def test_daily_limit_stops_a_second_visit() -> None:
    visits = [visit(1, store_id=100), visit(2, store_id=101, start=at(0, 15), end=at(0, 16))]
    result = auto_schedule(visits, [shopper(1, per_day=1)], RULES)
    assert [u.reason_code for u in result.unfilled] == ["capacity_day"]


def test_weekly_limit_and_once_per_store() -> None:
    visits = [visit(1), visit(2, start=at(1, 10), end=at(1, 11))]  # same store, two days
    result = auto_schedule(visits, [shopper(1)], Rules(default_rotation_days=0))
    assert [u.reason_code for u in result.unfilled] == ["same_store_in_wave"]
    visits = [visit(1), visit(2, store_id=101, start=at(1, 10), end=at(1, 11))]
    result = auto_schedule(visits, [shopper(1, per_week=1)], RULES)
    assert [u.reason_code for u in result.unfilled] == ["capacity_week"]


def test_no_shoppers_at_all() -> None:
    result = auto_schedule([visit()], [], RULES)
    assert [(u.reason_code, u.reason_text) for u in result.unfilled] == [
        ("no_candidates", "No shoppers were offered for this visit.")
    ]


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate visit ids"):
        auto_schedule([visit(1), visit(1)], [shopper()], RULES)


def test_work_is_spread_when_preference_is_equal() -> None:
    visits = [visit(i, store_id=100 + i, start=at(i, 10), end=at(i, 11)) for i in range(4)]
    result = auto_schedule(visits, [shopper(1), shopper(2)], RULES)
    assert Counter(a.shopper_id for a in result.assignments) == {1: 2, 2: 2}


def test_a_split_lp_is_finished_by_cp_sat() -> None:
    """One shopper; A overlaps B, B overlaps C, A and C share a store. The LP takes half
    of each (1.5 visits); only the integer solver can say one visit is the best."""
    visits = [
        visit(1, store_id=100, start=at(0, 10), end=at(0, 11)),
        visit(2, store_id=101, start=at(0, 10, 30), end=at(0, 11, 30)),
        visit(3, store_id=100, start=at(0, 11), end=at(0, 12)),
    ]
    result = auto_schedule(visits, [shopper(1, per_day=3)], RULES)
    assert result.stats.filled == 1
    assert result.stats.optimal_components == 1  # CP-SAT proved it
    assert violations(result, visits, [shopper(1, per_day=3)], RULES) == []


def _crowded(rng: random.Random):  # type: ignore[no-untyped-def]
    """Many windows that chain into each other at two stores: LPs that split."""
    windows = [(at(0, 10), at(0, 11)), (at(0, 10, 30), at(0, 11, 30)), (at(0, 11), at(0, 12))]
    windows.append((at(0, 11, 30), at(0, 12, 30)))
    visits = []
    for vid in range(1, 6):
        start, end = rng.choice(windows)
        visits.append(
            visit(vid, store_id=rng.choice((100, 101)), start=start, end=end,
                  target_female_pct=rng.choice((None, 20.0, 90.0)))
        )  # fmt: skip
    shoppers = [
        shopper(sid, gender=rng.choice(("female", "male")), per_day=rng.randint(2, 3))
        for sid in (1, 2)
    ]
    return visits, shoppers


@pytest.mark.parametrize("seed", range(30))
def test_crowded_instances_match_brute_force(seed: int) -> None:
    visits, shoppers = _crowded(random.Random(seed))
    rules = Rules(fairness_weight=0)
    filled, pref = _brute_force(visits, shoppers, rules)
    result = auto_schedule(visits, shoppers, rules)
    assert violations(result, visits, shoppers, rules) == []
    assert (result.stats.filled, result.stats.preference_total) == (filled, pref)
