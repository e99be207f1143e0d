"""reports/data.py and the modules it gathers (rollups, breakdowns, periods): roll-ups
over hand-computed fixtures — store and region means with their n and intervals, ranks
with ties, significance, early warning, periods, sections, questions, grades, NPS — and
whole reports assembled from plain DataFrames."""

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring
from reports import data
from reports.cards import Change, Nps, Stat, TagLine
from reports.periods import Period

F = Fraction
T2 = 4.302652729749464  # t(0.975, 2)


def visits(rows, by="wave_id"):
    """(group, store, score[, result[, grade]]) tuples as a visits frame."""
    full = [(*r, None, None)[:5] for r in rows]
    return pd.DataFrame(full, columns=[by, "store_id", "score", "result", "grade"], dtype=object)


def close(stat: Stat, low: float, high: float) -> bool:
    """The interval is low..high as the formula gives it, clipped to the 0–100 scale."""
    low, high = max(low, 0.0), min(high, 100.0)
    return math.isclose(stat.low, low, abs_tol=1e-9) and math.isclose(stat.high, high, abs_tol=1e-9)


# --- stores and regions ----------------------------------------------------------------


def test_a_store_is_the_mean_of_its_visits_and_a_region_of_its_stores():
    frame = visits([
        (1, 10, "100", "PASS"), (1, 10, "0", "FAIL"),  # store 10: 50 over 2 visits
        (1, 11, "80", "PASS"),                         # store 11: 80 over 1
        (1, 12, None, "FAIL"),                         # nothing applicable: no score
    ])  # fmt: skip
    scores = data.store_scores(frame)
    # 100 and 0: s = 50·√2, half = 12.7062... · 50 = 635.31...
    assert close(scores.stat(1, 10), 50 - 635.3102368087348, 50 + 635.3102368087348)
    assert scores.stat(1, 11) == Stat(mean=F(80), n=1)
    assert scores.stat(1, 12) == Stat(mean=None, n=0)
    # Each store equal: (50 + 80) / 2 = 65, not the visits' 60.
    region = scores.region(1)
    assert (region.mean, region.n) == (F(65), 2)
    assert scores.visits(1) == 3  # scored visits
    assert scores.pass_rate(1) == F(2, 4)  # the unscored FAIL counts as a result
    assert scores.pass_rates(1) == {10: F(1, 2), 11: F(1), 12: F(0)}
    assert scores.store_ids(1) == [10, 11]
    assert scores.region(2) == Stat(mean=None, n=0)


def test_scores_may_be_text_decimal_int_fraction_or_float():
    frame = visits([(1, 1, "173/2"), (1, 1, Decimal("86.5")), (1, 1, 86), (1, 1, F(87)),
                    (1, 1, 86.5), (1, 1, float("nan"))])  # fmt: skip
    stat = data.store_scores(frame).stat(1, 1)
    assert (stat.mean, stat.n) == ((F(173, 2) * 3 + 86 + 87) / 5, 5)  # NaN: no score


def test_a_region_interval_is_over_its_store_means():
    frame = visits([(1, 1, 70), (1, 1, 90), (1, 2, 60), (1, 3, 100), (1, 3, 100), (1, 3, 100)])
    region = data.store_scores(frame).region(1)
    # Store means 80, 60, 100: mean 80, s = 20, half = t(0.975, 2) · 20 / √3
    half = T2 * 20 / math.sqrt(3)
    assert (region.mean, region.n) == (F(80), 3) and close(region, 80 - half, 80 + half)
    assert data.store_scores(frame).region(1, [1, 2]).mean == 70


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.fractions(min_value=0, max_value=100, max_denominator=997)),
        min_size=1,
        max_size=40,
    )
)
def test_integer_sums_give_the_exact_fraction_means(rows):
    # Denominators up to 997 make the common denominator huge: Python integers, still exact.
    frame = visits([(1, store, score) for store, score in rows])
    scores = data.store_scores(frame)
    by_store: dict[int, list[Fraction]] = {}
    for store, score in rows:
        by_store.setdefault(store, []).append(score)
    means = {s: sum(v) / len(v) for s, v in by_store.items()}
    for store, mean in means.items():
        assert scores.stat(1, store).mean == mean
    assert scores.region(1).mean == sum(means.values()) / len(means)


def test_every_region_of_the_tree_gets_its_stores():
    frame = visits([(1, 1, 90), (1, 2, 70), (1, 3, 40)])
    scores = data.store_scores(frame)
    paths = {1: "/1/4/", 2: "/1/4/", 3: "/1/5/"}
    regions = data.by_region(scores, 1, paths)
    assert {r: (s.mean, s.n) for r, s in regions.items()} == {
        1: (F(200, 3), 3), 4: (F(80), 2), 5: (F(40), 1),
    }  # fmt: skip
    assert data.ancestors("/1/4/9/") == [1, 4, 9]


# --- ranks ------------------------------------------------------------------------------


def test_ranks_break_ties_by_more_visits_then_store_code():
    frame = visits([
        (1, 1, "8004/100"), (1, 1, "7996/100"),  # A: 80.00 over 2
        (1, 2, "8004/100"),                      # B: 80.04 over 1 -> shown 80.0: a tie
        (1, 3, 80), (1, 3, 80),                  # C: 80 over 2, code "A" sorts first
        (1, 4, 90),                              # D: best
        (1, 5, None),                            # no score: not ranked
    ])  # fmt: skip
    codes = {1: "S1", 2: "S2", 3: "A9", 4: "S4", 5: "S5"}
    ranked = data.rank_stores(data.store_scores(frame), 1, codes, decimals=1)
    assert ranked == [(1, 4), (2, 3), (3, 1), (4, 2)]
    # With two decimals B's 80.04 is ahead.
    assert data.rank_stores(data.store_scores(frame), 1, codes, decimals=2)[1] == (2, 2)
    assert data.top(ranked, 2) == [(1, 4), (2, 3)]
    assert data.bottom(ranked, 2) == [(4, 2), (3, 1)]
    assert data.bottom(ranked, 0) == []


def test_store_rows_rank_the_scored_and_list_the_rest():
    frame = visits([(1, 1, 70, "FAIL"), (1, 1, 90, "PASS"), (1, 2, 95, "PASS"),
                    (0, 1, 60, "FAIL"), (0, 1, 60, "FAIL")])  # fmt: skip
    stores = {i: data.StoreInfo(i, f"S{i}", f"Store {i}") for i in (1, 2, 3)}
    rows = data.store_rows(data.store_scores(frame), 1, stores, CHECKLIST, previous_group=0)
    assert [(r.rank, r.store_code, r.grade, r.pass_rate) for r in rows] == [
        (1, "S2", "Excellent", F(1)), (2, "S1", "Good", F(1, 2)), (None, "S3", None, None),
    ]  # fmt: skip
    # S1: 70, 90 (80 ± 127.06) against 60, 60 ([60, 60]): 80 is outside [60, 60] but 60
    # lies inside S1's wide interval: not significant.
    assert rows[1].change == Change(delta=F(20), significant=False)
    assert rows[0].change is None and rows[2].stat == Stat(mean=None, n=0)


# --- early warning ------------------------------------------------------------------------


def test_early_warning_needs_three_displayed_declines_in_a_row():
    frame = visits([
        *[(w, 1, s) for w, s in enumerate([90, 85, 80, 75])],           # falls 3 times
        *[(w, 2, s) for w, s in enumerate([90, 85, 85, 75])],           # a flat step
        *[(w, 3, s) for w, s in enumerate([90, 85, 80])],                # no visit in wave 3
        *[(w, 4, s) for w, s in enumerate([99, 90, "8004/100", "8001/100"])],  # 80.0 = 80.0
        *[(w, 5, s) for w, s in enumerate([99, 90, "8006/100", "8004/100"])],  # 80.1 > 80.0
        *[(w, 6, s) for w, s in enumerate([50, 95, 90, 85, 80])],        # last four fall
    ])  # fmt: skip
    scores = data.store_scores(frame)
    assert data.early_warning(scores, [0, 1, 2, 3], decimals=1) == [1, 5]
    assert data.early_warning(scores, [0, 1, 2, 3, 4], decimals=1) == [6]
    assert data.early_warning(scores, [1, 2, 3], decimals=1) == []  # too few waves
    assert data.early_warning(scores, [0, 1, 2, 3], decimals=1, store_ids=[1, 2]) == [1]


# --- periods ------------------------------------------------------------------------------


def test_periods_and_their_labels():
    day = date(2026, 2, 14)
    assert data.period_of(day, "month") == Period(date(2026, 2, 1), date(2026, 2, 28), "month")
    assert data.period_of(day, "quarter").label == "2026-Q1"
    assert data.period_of(date(2026, 12, 31), "quarter").end == date(2026, 12, 31)
    assert data.period_of(day, "year") == Period(date(2026, 1, 1), date(2026, 12, 31), "year")
    assert data.period_of(day, "month").label == "2026-02"
    assert data.custom(date(2026, 3, 5), date(2026, 4, 4)).label == "2026-03-05..2026-04-04"
    with pytest.raises(ValueError):
        data.custom(date(2026, 3, 5), date(2026, 3, 4))
    with pytest.raises(ValueError):
        data.period_of(day, "custom")


def test_the_period_before_and_the_year_before():
    assert data.previous(data.period_of(date(2026, 1, 9), "month")).label == "2025-12"
    assert data.previous(data.period_of(date(2026, 2, 9), "quarter")).label == "2025-Q4"
    assert data.previous(data.period_of(date(2026, 2, 9), "year")).label == "2025"
    assert data.year_before(data.period_of(date(2026, 5, 9), "quarter")).label == "2025-Q2"
    leap = data.custom(date(2024, 2, 1), date(2024, 2, 29))
    assert data.year_before(leap) == data.custom(date(2023, 2, 1), date(2023, 2, 28))
    assert data.previous(leap) == data.custom(date(2024, 1, 3), date(2024, 1, 31))


def test_visits_grouped_by_period_compare_year_on_year():
    frame = pd.DataFrame(
        [(1, 70, date(2025, 5, 2)), (2, 90, date(2025, 6, 30)), (1, 80, date(2026, 4, 1)),
         (1, 90, date(2026, 6, 1)), (2, 100, date(2026, 5, 5)), (2, 60, date(2026, 1, 1))],
        columns=["store_id", "score", "day"],
    )  # fmt: skip
    quarters = data.assign(frame, "quarter")
    assert quarters["period"].tolist() == ["2025-Q2", "2025-Q2", "2026-Q2", "2026-Q2",
                                           "2026-Q2", "2026-Q1"]  # fmt: skip
    scores = data.store_scores(quarters, by="period")
    # 2026-Q2: store 1 (80 + 90) / 2 = 85, store 2 100 -> 92.5; 2025-Q2: 70 and 90 -> 80.
    assert scores.region("2026-Q2").mean == F(185, 2)
    assert data.compare(scores, "2026-Q2", "2025-Q2") == Change(delta=F(25, 2), significant=False)
    assert data.compare(scores, "2026-Q2", "2024-Q2") is None
    spring = data.custom(date(2026, 4, 1), date(2026, 5, 31))
    picked = data.within(frame, [spring])
    assert picked["period"].tolist() == [spring.label, spring.label]
    assert date(2026, 4, 1) in spring and "2026-04-01" not in spring


# --- sections, questions, grades, NPS -------------------------------------------------------

CHECKLIST = scoring.load_checklist({
    "title": "Audit",
    "scoring": {"method": "pooled", "pass_mark": 80, "decimals": 1,
                "bands": [{"min": 90, "label": "Excellent",
                           "translations": {"zh": {"label": "优秀"}}},
                          {"min": 75, "label": "Good"}, {"min": 0, "label": "Poor"}]},
    "sections": [
        {"key": "a", "title": "Greeting", "translations": {"zh": {"title": "问候"}},
         "questions": [
            {"key": "q1", "text": "Greeted?", "type": "yes_no", "tag": "compliance",
             "translations": {"zh": {"text": "打招呼了吗？"}}},
            {"key": "q2", "text": "Helped?", "type": "yes_no", "tag": "effectiveness"},
        ]},
        {"key": "b", "title": "Shop", "pass_mark": 90, "questions": [
            {"key": "q3", "text": "Clean?", "type": "yes_no", "critical": True},
            {"key": "q4", "text": "Comment", "type": "text"},
            {"key": "q5", "text": "Recommend?", "type": "nps"},
        ]},
        {"key": "c", "title": "Empty", "questions": [
            {"key": "q6", "text": "Bonus", "type": "yes_no", "bonus": True},
        ]},
    ],
})  # fmt: skip


def test_sections_with_their_standard_and_gap():
    scores = pd.DataFrame(
        [("a", "100", 2), ("a", "50", 1), ("a", None, 4), ("b", "200/3", 3), ("b", "100", 1)],
        columns=["section_key", "score", "count"],
    )
    a, b, c = data.section_lines(scores, CHECKLIST)
    # a: 100, 100, 50 -> 250/3; s^2 = 2·(50/3)^2 + (100/3)^2 over 2 = 2500/3
    half = T2 * math.sqrt(2500 / 3 / 3)
    assert (a.key, a.title, a.stat.mean, a.stat.n) == ("a", "Greeting", F(250, 3), 3)
    assert close(a.stat, 250 / 3 - half, 250 / 3 + half)
    assert (a.standard, a.gap) == (80, 80 - F(250, 3))  # the checklist's pass mark
    assert (b.stat.mean, b.standard, b.gap) == (F(75), 90, 15)  # its own pass mark
    assert (c.stat, c.gap) == (Stat(mean=None, n=0), None)
    # a meets its standard (gap < 0): only b is listed.
    assert [s.key for s in data.to_improve([a, b, c])] == ["b"]
    met = replace(b, stat=Stat(mean=F(95), n=1), gap=F(-5))
    assert data.to_improve([a, met, c]) == ()
    assert data.section_lines(scores, CHECKLIST, "zh_Hans")[0].title == "问候"


FIGURES = pd.DataFrame(
    [("q1", Decimal(6), Decimal(7), 7, 6, 0, 0, 0, 0),
     ("q2", F(3), F(7), 7, 3, 0, 0, 0, 0),
     ("q3", 7, 8, 8, 7, 1, 0, 0, 0),
     ("q1", Decimal(1), Decimal(3), 3, 1, 0, 0, 0, 0),  # another version's q1: added up
     ("q5", 0, 0, 0, 0, 0, 3, 2, 2),
     ("q6", 2, 0, 2, 2, 0, 0, 0, 0)],
    columns=["question_key", "earned", "possible", "answers", "full_credit", "critical_failed",
             "promoters", "passives", "detractors"],
)  # fmt: skip


def test_questions_compliance_full_credit_and_critical_failures():
    stats = data.question_stats(FIGURES, CHECKLIST)
    assert [s.key for s in stats] == ["q1", "q2", "q3", "q6"]  # scored questions only
    q1, q2, q3, q6 = stats
    assert (q1.compliance, q1.full_credit_share, q1.n, q1.tag) == (F(7, 10), F(7, 10), 10,
                                                                   "compliance")  # fmt: skip
    assert (q2.compliance, q2.section_title) == (F(3, 7), "Greeting")
    assert (q3.compliance, q3.critical_failures) == (F(7, 8), 1)
    assert (q6.compliance, q6.full_credit_share) == (None, F(1))  # a bonus has no possible
    assert [s.key for s in data.worst_questions(stats)] == ["q2", "q1", "q3"]
    assert [s.key for s in data.worst_questions(stats, 1)] == ["q2"]
    assert [s.key for s in data.critical_failures(stats)] == ["q3"]
    assert data.question_stats(FIGURES, CHECKLIST, "zh")[0].text == "打招呼了吗？"


def test_worst_questions_break_ties_by_full_credit_then_answers_then_order():
    figures = pd.DataFrame(
        [("q1", 1, 2, 4, 1), ("q2", 1, 2, 2, 0), ("q3", 2, 4, 4, 1)],
        columns=["question_key", "earned", "possible", "answers", "full_credit"],
    )
    stats = data.question_stats(figures, CHECKLIST)
    # All at 1/2: q2 has the lowest full-credit share; q1 and q3 tie on it and on answers.
    assert [s.key for s in data.worst_questions(stats)] == ["q2", "q1", "q3"]


def test_compliance_against_effectiveness():
    stats = data.question_stats(FIGURES, CHECKLIST)
    assert data.by_tag(stats, FIGURES) == (
        TagLine("compliance", F(7, 10), F(7, 10), 1, 10),
        TagLine("effectiveness", F(3, 7), F(3, 7), 1, 7),
    )


def test_nps_over_the_nps_questions():
    assert data.nps_of(FIGURES, CHECKLIST) == Nps(
        score=F(100, 7), promoters=F(3, 7), passives=F(2, 7), detractors=F(2, 7), n=7
    )
    assert data.nps_of(FIGURES.iloc[0:0], CHECKLIST).n == 0
    question = {"key": "q", "text": "Q", "type": "yes_no"}
    no_nps = scoring.load_checklist(
        {"title": "x", "sections": [{"key": "s", "title": "S", "questions": [question]}]}
    )
    assert data.nps_of(FIGURES, no_nps) is None


def test_grades_best_band_first_and_pass_on_the_displayed_mean():
    counts = data.grade_counts(["Good", "Poor", None, "Good", "Legacy"], CHECKLIST)
    assert counts == (("Excellent", 0), ("Good", 2), ("Poor", 1), ("Legacy", 1))
    assert data.grade_counts(["Excellent"], CHECKLIST, "zh_Hans")[0] == ("优秀", 1)
    assert data.grade_for(F(8995, 100), CHECKLIST) == "Excellent"  # shown as 90.0
    assert data.grade_for(F(8994, 100), CHECKLIST) == "Good"
    assert data.grade_for(None, CHECKLIST) is None
    assert data.passes(F(7995, 100), CHECKLIST) is True  # 80.0 meets a pass mark of 80
    assert data.passes(F(7994, 100), CHECKLIST) is False
    assert data.passes(None, CHECKLIST) is None


# --- whole reports ------------------------------------------------------------------------


def _groups(n):
    return [data.Group(w, f"W{w}", date(2026, w, 1), date(2026, w, 28)) for w in range(1, n + 1)]


def test_a_region_report_from_plain_frames():
    frame = visits([
        (1, 1, 90, "PASS", "Excellent"), (2, 1, 85, "PASS", "Good"), (3, 1, 80, "PASS", "Good"),
        (4, 1, 70, "FAIL", "Poor"), (4, 1, 74, "FAIL", "Poor"),
        (3, 2, 60, "FAIL", "Poor"), (4, 2, 90, "PASS", "Excellent"),
    ])  # fmt: skip
    stores = {i: data.StoreInfo(i, f"S{i}", f"Store {i}") for i in (1, 2, 3)}
    sections = pd.DataFrame([("a", 72, 2), ("b", 90, 1)], columns=["section_key", "score",
                                                                   "count"])  # fmt: skip
    inputs = data.RegionInputs("Brand", "North", CHECKLIST, _groups(4), stores, frame, sections,
                               FIGURES)  # fmt: skip
    report = data.region_report(inputs)
    assert (report.wave_name, report.period) == ("W4", (date(2026, 4, 1), date(2026, 4, 28)))
    assert (report.score.mean, report.score.n, report.visits) == (F(81), 2, 3)  # (72 + 90) / 2
    assert report.change == Change(delta=F(11), significant=False)  # (80 + 60) / 2 = 70 before
    assert [(r.rank, r.store_code) for r in report.stores] == [(1, "S2"), (2, "S1"), (None, "S3")]
    assert [r.store_code for r in report.early_warning] == ["S1"]  # 90, 85, 80, 72
    assert report.grades == (("Excellent", 1), ("Good", 0), ("Poor", 2))
    assert report.pass_rate == F(1, 3)
    assert [t.stat.mean for t in report.trend] == [90, 85, 70, 81]
    assert [q.key for q in report.worst_questions] == ["q2", "q1", "q3"]
    assert report.nps is not None and report.nps.n == 7 and len(report.tags) == 2


def test_a_store_scorecard_from_plain_frames():
    frame = visits([(1, 1, 80, "PASS"), (2, 1, 70, "FAIL"), (2, 1, 90, "PASS"), (2, 2, 85)])
    stores = {i: data.StoreInfo(i, f"S{i}", f"Store {i}") for i in (1, 2)}
    sections = pd.DataFrame([("a", 100), ("a", 60), ("b", 75)], columns=["section_key", "score"])
    inputs = data.StoreInputs("Brand", ("North", "East"), stores[1], stores, CHECKLIST, _groups(2),
                              frame, sections, FIGURES, ())  # fmt: skip
    card = data.store_scorecard(inputs)
    assert (card.score.mean, card.score.n, card.grade, card.passed) == (80, 2, "Good", True)
    assert (card.rank_in_region, card.stores_in_region, card.pass_rate) == (2, 2, F(1, 2))
    assert card.change == Change(delta=F(0), significant=False)
    assert [(t.label, t.stat.mean) for t in card.trend] == [("W1", 80), ("W2", 80)]
    assert [s.key for s in card.to_improve] == ["b"]  # a (80) meets the pass mark of 80
    assert card.region_names == ("North", "East") and card.visits == ()
