"""Report data from the database: every figure of a store scorecard and a region report
against hand computation, over a small world whose results are written the way the
app writes them (services/results.record_results on visits with answers, and one
visit approved through services/review.approve).

The world (client RPT, waves W1 <- W2 <- W3 <- W4, a pooled 5-point checklist, pass
mark 80, a critical "clean" question that only flags, and a "shop" section pass mark
of 90):

    North ── North-east ── A1, B1        South ── S1
          ├─ North-west ── C1, E1 (in W4, never visited)
          └─ D1

Visit score = 20 × points (greeted 1, helped 1, clean 1, staff warm 2 / neutral 1).

    store   W1    W2    W3          W4
    A1      40    —     100, 100    100, 60, 80 (clean failed)
    B1      100   80    60, 60      80, 80
    C1      100   80    60          40   (+ a submitted 100 that must not count)
    D1      —     —     —           100 (greeting section N/A), 60
    S1      —     —     —           100  (South: never in North's figures)
"""

from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from auditapp.extensions import db
from auditapp.models.answers import Evidence
from auditapp.models.waves import Visit
from auditapp.services.reporting.rows import (
    region_report,
    scoped_stores,
    visit_days,
)
from auditapp.services.scorecards.pdfs import store_scorecard
from reports.cards import Change, Nps, Stat
from tests.conftest import count_queries
from tests.web.worlds.report_data import report
from tests.web.worlds.report_data import w as w  # noqa: F401 (a fixture)

T2 = 4.302652729749464  # t(0.975, 2)
T3 = 3.182446305284263  # t(0.975, 3)
T6 = 2.446911851144969  # t(0.975, 6)


def interval(mean: Fraction, squares: Fraction, n: int, t: float) -> tuple[float, float]:
    """mean ± t · s / √n, with s² = Σ(x − mean)² / (n − 1), inside the 0–100 scale."""
    half = t * (float(squares) / (n - 1) / n) ** 0.5
    return max(float(mean) - half, 0.0), min(float(mean) + half, 100.0)


def assert_stat(stat: Stat, mean: Fraction | None, n: int, bounds: Any = None) -> None:
    assert (stat.mean, stat.n) == (mean, n)
    if bounds is None:
        assert stat.low is None and stat.high is None
    else:
        assert stat.low is not None and stat.high is not None
        assert float(stat.low) == pytest.approx(bounds[0], abs=1e-9)
        assert float(stat.high) == pytest.approx(bounds[1], abs=1e-9)


def test_the_region_report_of_the_whole_tree(app, w):
    r = report(app, w, w.north, w.admin)
    assert (r.client_name, r.region_name, r.wave_name) == ("Report brand", "North", "W4")
    assert r.period == (w.waves[-1].starts_on, w.waves[-1].ends_on)
    # Store means A 80, B 80, C 40, D 80 -> 70 over 4 stores, 8 visits; s^2 = 1200/3.
    assert_stat(r.score, Fraction(70), 4, interval(Fraction(70), Fraction(1200), 4, T3))
    assert not r.score.low_sample
    assert r.visits == 8
    # W3: A 100, B 60, C 60 -> 220/3 over 3 stores: the change is inside both intervals.
    assert r.change == Change(delta=Fraction(70) - Fraction(220, 3), significant=False)

    rows = [(s.rank, s.store_code, s.stat.mean, s.stat.n) for s in r.stores]
    # A, B and D tie at 80.0: more visits first (A), then code (B1 before D1). E1 is in
    # the wave without a visit; S1 is in South; the submitted 100 at C1 does not count.
    assert rows == [
        (1, "A1", 80, 3), (2, "B1", 80, 2), (3, "D1", 80, 2), (4, "C1", 40, 1),
        (None, "E1", None, 0),
    ]  # fmt: skip
    a, b, d, c, e = r.stores
    assert_stat(a.stat, Fraction(80), 3, interval(Fraction(80), Fraction(800), 3, T2))
    assert a.stat.low_sample is False and b.stat.low_sample is True
    assert_stat(b.stat, Fraction(80), 2, (80, 80))  # two equal scores: a zero-width interval
    assert a.change == Change(delta=Fraction(-20), significant=False)
    # B: 60, 60 -> 80, 80: each mean lies outside the other's (zero-width) interval.
    assert b.change == Change(delta=Fraction(20), significant=True)
    assert d.change is None and c.change == Change(delta=Fraction(-20), significant=False)
    assert [s.grade for s in r.stores] == ["Good", "Good", "Good", "Poor", None]
    # Passing: score >= 80, clean not failed, shop >= 90 (A1 100, B 2nd, D 1st visit).
    assert [s.pass_rate for s in r.stores] == [
        Fraction(1, 3), Fraction(1, 2), Fraction(1, 2), Fraction(0), None,
    ]  # fmt: skip
    assert r.pass_rate == Fraction(3, 8)
    assert r.grades == (("Excellent", 2), ("Good", 3), ("Poor", 3))

    assert [(t.label, t.stat.mean, t.stat.n) for t in r.trend] == [
        ("W1", Fraction(80), 3), ("W2", Fraction(80), 2), ("W3", Fraction(220, 3), 3),
        ("W4", Fraction(70), 4),
    ]  # fmt: skip
    assert [row.store_code for row in r.early_warning] == ["C1"]  # 100, 80, 60, 40

    greeting, shop = r.sections
    # Greeting applied on 7 visits (not D's first): 100, 50, 100, 100, 50, 0, 50.
    squares = 3 * 100**2 + 3 * 50**2 - Fraction(450**2, 7)  # sum of (x - mean)^2
    assert_stat(greeting.stat, Fraction(450, 7), 7, interval(Fraction(450, 7), squares, 7, T6))
    assert (greeting.standard, greeting.gap) == (80, 80 - Fraction(450, 7))
    # Shop on all 8: three at 100, five at 200/3.
    assert (shop.stat.mean, shop.stat.n) == (Fraction(475, 6), 8)
    assert (shop.standard, shop.gap) == (90, 90 - Fraction(475, 6))

    by_key = {q.key: q for q in r.worst_questions}
    assert [q.key for q in r.worst_questions] == ["helped", "staff", "greeted", "clean"]
    assert (by_key["helped"].compliance, by_key["helped"].n) == (Fraction(3, 7), 7)
    assert (by_key["staff"].compliance, by_key["staff"].full_credit_share) == (
        Fraction(12, 16), Fraction(4, 8),
    )  # fmt: skip
    assert (by_key["greeted"].compliance, by_key["greeted"].n) == (Fraction(6, 7), 7)
    assert (by_key["clean"].compliance, by_key["clean"].critical_failures) == (Fraction(7, 8), 1)
    assert by_key["greeted"].section_title == "Greeting" and by_key["clean"].tag == "compliance"
    assert [q.key for q in r.critical_failures] == ["clean"]
    compliance, effectiveness = r.tags
    assert (compliance.tag, compliance.compliance, compliance.questions, compliance.n) == (
        "compliance", Fraction(13, 15), 2, 15,
    )  # fmt: skip
    assert (effectiveness.compliance, effectiveness.full_credit_share) == (
        Fraction(3, 7), Fraction(3, 7),
    )  # fmt: skip
    # NPS over 10, 9, 7, 8, 3, 6, 10 (D's second visit has none).
    assert r.nps == Nps(
        score=Fraction(100, 7), promoters=Fraction(3, 7), passives=Fraction(2, 7),
        detractors=Fraction(2, 7), n=7,
    )  # fmt: skip


def test_the_whole_clients_report_for_head_office(app, w):
    r = report(app, w, None, w.admin)
    # A 80, B 80, C 40, D 80 and South's S1 100: 380 / 5 stores, 9 visits.
    assert (r.region_name, r.score.mean, r.score.n, r.visits) == ("Report brand", 76, 5, 9)
    assert [s.store_code for s in r.stores] == ["S1", "A1", "B1", "D1", "C1", "E1"]


def test_visits_by_the_day_they_took_place_for_period_reports(app, w):
    from reports import data

    with app.app_context():
        frame = visit_days(Visit.store_id.in_(scoped_stores(w.admin, w.client.id, None)))
    # Approved only: W1 3, W2 2, W3 5, W4 9 (North 8 and South 1), on Shanghai days.
    months = data.assign(frame, "month")["period"].value_counts().to_dict()
    assert months == {"2026-01": 3, "2026-02": 2, "2026-03": 5, "2026-04": 9}
    scores = data.store_scores(data.assign(frame, "quarter"), by="period")
    # Q1: A (40, 100, 100) 80, B (100, 80, 60, 60) 75, C (100, 80, 60) 80.
    q1, q2 = scores.region("2026-Q1").mean, scores.region("2026-Q2").mean
    assert (q1, q2) == (Fraction(235, 3), 76)
    assert data.compare(scores, "2026-Q2", "2026-Q1").delta == 76 - Fraction(235, 3)


def test_a_regional_manager_sees_only_the_stores_of_their_regions(app, w):
    r = report(app, w, w.ne, w.manager)
    assert [(s.rank, s.store_code) for s in r.stores] == [(1, "A1"), (2, "B1")]
    assert_stat(r.score, Fraction(80), 2, (80, 80))
    assert r.score.low_sample and r.visits == 5
    # Even asked about the whole tree, only their stores count.
    wide = report(app, w, w.north, w.manager)
    assert [s.store_code for s in wide.stores] == ["A1", "B1"]
    assert wide.grades == (("Excellent", 1), ("Good", 3), ("Poor", 1))
    assert sum(q.n for q in wide.worst_questions if q.key == "clean") == 5


def test_the_store_scorecard(app, w):
    with app.app_context():
        card = store_scorecard(w.a, w.waves[-1], w.admin)
    assert (card.client_name, card.store_code, card.store_name) == ("Report brand", "A1", "Alpha")
    assert card.region_names == ("North", "North-east")
    assert_stat(card.score, Fraction(80), 3, interval(Fraction(80), Fraction(800), 3, T2))
    assert (card.grade, card.passed, card.pass_rate) == ("Good", True, Fraction(1, 3))
    assert card.change == Change(delta=Fraction(-20), significant=False)
    # Ranked in North-east (A1 and B1, tied at 80.0: A1 has more visits).
    assert (card.rank_in_region, card.stores_in_region) == (1, 2)
    assert [(t.label, t.stat.mean, t.stat.n) for t in card.trend] == [
        ("W1", 40, 1), ("W2", None, 0), ("W3", 100, 2), ("W4", 80, 3),
    ]  # fmt: skip
    greeting, shop = card.sections
    assert (greeting.stat.mean, greeting.stat.n) == (Fraction(250, 3), 3)  # 100, 50, 100
    assert (shop.stat.mean, shop.stat.n) == (Fraction(700, 9), 3)  # 100, 200/3, 200/3
    assert [s.key for s in card.to_improve] == ["shop"]  # greeting (250/3) meets its 80
    assert card.nps == Nps(
        score=Fraction(200, 3), promoters=Fraction(2, 3), passives=Fraction(1, 3),
        detractors=Fraction(0), n=3,
    )  # fmt: skip

    first, second, third = card.visits
    assert [v.visit_id for v in card.visits] == [w.a1.id, w.a2.id, w.a3.id]
    assert (first.score, first.grade, first.passed) == (100, "Excellent", True)
    assert (third.score, third.grade, third.passed) == (80, "Good", False)
    assert first.day == w.a1.window_start.astimezone(ZoneInfo("Asia/Shanghai")).date()
    lines = {q.key: q for q in third.questions}
    assert [q.number for q in third.questions] == ["1", "2", "3", "4", "5"]
    assert (lines["greeted"].text, lines["greeted"].answer) == ("Greeted?", "Yes")
    assert (lines["clean"].answer, lines["clean"].critical_failed) == ("No", True)
    assert (lines["staff"].answer, lines["staff"].earned, lines["staff"].possible) == (
        "Warm", 2, 2,
    )  # fmt: skip
    assert (lines["recommend"].answer, lines["recommend"].applicable) == ("7", False)
    assert first.comments == (("", "Friendly staff."), ("Shop", "Dusty shelf."))
    assert second.comments == () and first.photo_paths == ()


def test_the_scorecard_in_chinese_uses_the_checklists_translations(app, w):
    with app.app_context():
        card = store_scorecard(w.a, w.waves[-1], w.admin, "zh_Hans")
    assert card.sections[0].title == "问候"
    lines = {q.key: q for q in card.visits[0].questions}
    assert (lines["greeted"].text, lines["greeted"].answer) == ("有人招呼您吗？", "是")
    assert lines["staff"].answer == "热情"
    assert card.visits[0].grade == "优秀"
    with app.app_context():
        r = region_report(w.north, w.waves[-1], w.admin, "zh_Hans")
    assert r.grades[0] == ("优秀", 2)


def test_photo_thumbnails_on_disk_are_listed(app, w, tmp_path):
    folder = tmp_path / "evidence"
    with app.app_context():
        app.config["UPLOAD_FOLDER"], saved = str(tmp_path), app.config["UPLOAD_FOLDER"]
        try:
            (folder / str(w.a1.id)).mkdir(parents=True)
            (folder / str(w.a1.id) / "p_thumb.jpg").write_bytes(b"jpeg")
            for name, thumb in (("p.jpg", "p_thumb.jpg"), ("q.jpg", "q_thumb.jpg")):
                db.session.add(
                    Evidence(
                        visit_id=w.a1.id, kind="photo", client_upload_id=name, sha256="0" * 64,
                        content_type="image/jpeg", size_bytes=4, stored_name=name,
                        thumb_name=thumb,
                    )
                )  # fmt: skip
            db.session.flush()
            card = store_scorecard(w.a, w.waves[-1], w.admin)
        finally:
            app.config["UPLOAD_FOLDER"] = saved
    assert card.visits[0].photo_paths == (str(folder / str(w.a1.id) / "p_thumb.jpg"),)


def test_a_store_outside_the_users_scope_is_not_found(app, w):
    from auditapp.errors import NotFound

    with app.app_context(), pytest.raises(NotFound):
        store_scorecard(w.c, w.waves[-1], w.manager)
    with app.app_context(), pytest.raises(NotFound):
        store_scorecard(w.x, w.waves[-1], w.admin)  # another client's store


def test_a_store_manager_sees_their_rank_among_the_regions_stores(app, w):
    store = w.store_manager.stores[0]  # F1 in North-east, no visits yet
    with app.app_context():
        card = store_scorecard(store, w.waves[-1], w.store_manager)
    assert (card.score.mean, card.score.n, card.rank_in_region) == (None, 0, None)
    assert card.stores_in_region == 2 and card.visits == () and card.change is None


RELOADS = ("SELECT region.id, region.client_id", "SELECT user.id", 'SELECT "user".id',
           "SELECT store.id, store.client",
           "SELECT wave.id, wave.client_id")  # fmt: skip


def test_the_queries_are_bounded(app, w):
    """Ten queries for a region report and nineteen for a scorecard (one of them its
    open corrective actions), whatever the
    number of stores, visits and answers (not counting the test session reloading the
    objects passed in, which a request has loaded already)."""
    with count_queries(app) as statements:
        report(app, w, w.north, w.admin)
    assert len([s for s in statements if not s.startswith(RELOADS)]) == 10
    with app.app_context(), count_queries(app) as statements:
        store_scorecard(w.a, w.waves[-1], w.admin)
    assert len([s for s in statements if not s.startswith(RELOADS)]) == 19
