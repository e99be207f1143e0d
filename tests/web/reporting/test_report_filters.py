"""Report filters: store format and tier, a period instead of a wave (month, quarter,
year, custom range), and the whole client ("all regions") for head office.

The world is the report data tests' (client RPT; North ── North-east ── A1, B1;
North-west ── C1, E1; D1; South ── S1), with formats and tiers:

    store   format        tier   W4 visits        W4 mean
    A1      supermarket   A      100, 60, 80      80
    B1      supermarket   B      80, 80           80
    C1      convenience   B      40               40
    D1      convenience   C      100 (greeting N/A), 60   80
    E1      convenience   B      —

and two stores far from UTC, in North, for the edges of the first quarter of 2026:

    H1  Pacific/Honolulu (UTC−10)    31 Mar 23:30 local: 100 (Q1)   1 Apr 00:30 local: 40 (Q2)
    K1  Pacific/Kiritimati (UTC+14)  1 Jan 00:30 local: 60 (Q1)    31 Dec 23:30 local: 80 (2025-Q4)

In UTC both H1 visits fall on 1 April and both K1 visits on 31 December, so a report
that took UTC days would get every one of them wrong.
"""

import re
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import pytest

from auditapp.extensions import db
from auditapp.services.reporting import periods as report_periods
from auditapp.services.reporting.rows import region_report
from reports.periods import Period, custom
from tests.conftest import login
from tests.web.worlds import report_data
from tests.web.worlds.reading import rows, text

w = report_data.w  # the report data tests' world, a fixture here

FORMATS = {
    "A1": ("supermarket", "A"),
    "B1": ("supermarket", "B"),
    "C1": ("convenience", "B"),
    "D1": ("convenience", "C"),
    "E1": ("convenience", "B"),
    "S1": ("supermarket", "A"),
}
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31), "quarter")
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30), "quarter")


@pytest.fixture
def f(w: Any, make_store: Any, make_user: Any) -> Any:
    """The report data world with formats, tiers, the two far-off stores and users."""
    for store in (w.a, w.b, w.c, w.d, w.e, w.s):
        store.format, store.tier = FORMATS[store.code]
    w.h = make_store(w.client, w.north, "H1", name="Hilo", timezone="Pacific/Honolulu",
                     format="specialty", tier="A")  # fmt: skip
    w.k = make_store(w.client, w.north, "K1", name="Kiritimati", timezone="Pacific/Kiritimati",
                     format="specialty", tier="A")  # fmt: skip
    w1, _w2, w3, _w4 = w.waves
    w.h_in = at(w, w3, w.h, datetime(2026, 4, 1, 9, 30, tzinfo=UTC), 100)
    w.h_out = at(w, w3, w.h, datetime(2026, 4, 1, 10, 30, tzinfo=UTC), 40)
    w.k_in = at(w, w1, w.k, datetime(2025, 12, 31, 10, 30, tzinfo=UTC), 60)
    w.k_out = at(w, w1, w.k, datetime(2025, 12, 31, 9, 30, tzinfo=UTC), 80)
    w.coordinator = make_user("cora.report@example.com", "coordinator", clients=[w.client])
    w.rm_north = make_user("nick.report@example.com", "regional_manager", client=w.client,
                           regions=[w.north])  # fmt: skip
    w.rm_roots = make_user("rose.report@example.com", "regional_manager", client=w.client,
                           regions=[w.north, w.south])  # fmt: skip
    db.session.flush()
    return w


def at(w: Any, wave: Any, store: Any, instant: datetime, score: int) -> Any:
    """An approved visit of this score whose window starts at ``instant``."""
    visit = report_data.visit(w, wave, store, *report_data.FOR_SCORE[score])
    visit.window_start, visit.window_end = instant, instant.replace(hour=instant.hour + 1)
    db.session.flush()
    return visit


def codes(html: str) -> list[str]:
    return [re.search(r'data-store="(\w+)"', r).group(1) for r in rows(html, "ranking")[1:]]


def kpi(html: str, name: str) -> str:
    return text(re.search(rf'id="{name}".*?</li>', html, re.S).group(0))


def north_w4(f: Any, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/reports/?region={f.north.id}&wave={f.waves[-1].id}&{query}"


# --- format and tier --------------------------------------------------------------------


def test_the_format_filter_keeps_only_those_stores(client, f):
    login(client, f.admin)
    html = client.get(north_w4(f, format="supermarket")).text
    assert codes(html) == ["A1", "B1"]
    score = kpi(html, "region-score")
    assert "80.0" in score and "2 stores" in score  # (80 + 80) / 2
    assert "5 approved visits" in kpi(html, "region-pass")
    assert '<option value="supermarket" selected>' in html
    assert "format=supermarket" in re.search(r'href="([^"]*report\.pdf[^"]*)"', html).group(1)

    html = client.get(north_w4(f, format="convenience")).text
    assert codes(html) == ["D1", "C1", "E1"]  # E1 is planned, never visited
    assert "60.0" in kpi(html, "region-score")  # (80 + 40) / 2


def test_the_tier_filter_combines_with_the_format(client, f):
    login(client, f.admin)
    html = client.get(north_w4(f, tier="A")).text
    assert codes(html) == ["A1"]
    assert "80.0" in kpi(html, "region-score") and "1 store" in kpi(html, "region-score")
    html = client.get(north_w4(f, format="convenience", tier="B")).text
    assert codes(html) == ["C1", "E1"]
    assert "40.0" in kpi(html, "region-score")
    # An unknown value is no filter.
    assert codes(client.get(north_w4(f, tier="Z")).text) == ["A1", "B1", "D1", "C1", "E1"]


def test_the_question_analysis_follows_the_filter(client, f):
    login(client, f.admin)
    url = f"/reports/questions?region={f.north.id}&wave={f.waves[-1].id}&format=convenience"
    html = client.get(url).text
    found = {
        re.search(r'data-question="(\w+)"', r).group(1): text(r)
        for r in rows(html, "questions")[1:]
    }
    # C1 (no, no, clean, neutral) and D1 (N/A, N/A, clean, warm; yes, no, clean, neutral).
    assert list(found)[:4] == ["helped", "greeted", "staff", "clean"]
    assert "0.0%" in found["helped"] and "n = 2" in found["helped"]
    assert "50.0%" in found["greeted"] and "n = 2" in found["greeted"]
    assert "66.7%" in found["staff"] and "n = 3" in found["staff"]  # 4 of 6 points
    assert "100.0%" in found["clean"] and "n = 3" in found["clean"]


def test_the_service_takes_the_store_filter(app, f):
    with app.app_context():
        report = region_report(f.north, f.waves[-1], f.admin,
                                                 store_format="supermarket", tier="B")  # fmt: skip
    assert [s.store_code for s in report.stores] == ["B1"]
    assert (report.score.mean, report.visits) == (80, 2)


# --- periods ----------------------------------------------------------------------------


def test_a_quarter_counts_the_visits_of_its_local_days(app, f):
    with app.app_context():
        found = report_periods.region_report(f.north, f.client, Q1, f.admin)
    assert found is not None
    r = found.report
    assert (r.wave_name, r.period) == ("2026-Q1", (Q1.start, Q1.end))
    by_code = {s.store_code: (s.stat.mean, s.stat.n) for s in r.stores}
    # H1: only the 23:30 visit of 31 March; K1: only the 00:30 visit of 1 January.
    assert by_code["H1"] == (100, 1) and by_code["K1"] == (60, 1)
    assert by_code["A1"] == (80, 3) and by_code["B1"] == (75, 4) and by_code["C1"] == (80, 3)
    # (80 + 75 + 80 + 100 + 60) / 5 stores; 10 visits of W1–W3 and the two edge ones.
    assert (r.score.mean, r.score.n, r.visits) == (79, 5, 12)
    # The answers are those of the same twelve visits (the edge ones by id in SQL).
    clean = next(q for q in r.worst_questions if q.key == "clean")
    assert clean.n == 12
    assert [(s.key, s.stat.n) for s in r.sections] == [("greeting", 12), ("shop", 12)]
    # The trend is the quarters before it; 2025-Q4 has K1's 23:30 visit of 31 December.
    assert [(t.label, t.stat.mean, t.stat.n) for t in r.trend] == [
        ("2025-Q2", None, 0), ("2025-Q3", None, 0), ("2025-Q4", 80, 1), ("2026-Q1", 79, 5),
    ]  # fmt: skip
    assert r.change is not None and r.change.delta == -1
    assert found.year_label == "2025-Q1" and found.wave.name == "W3"


def test_the_next_quarter_gets_the_other_edge_visit(app, f):
    with app.app_context():
        found = report_periods.region_report(f.north, f.client, Q2, f.admin)
    assert found is not None
    r = found.report
    by_code = {s.store_code: (s.stat.mean, s.stat.n) for s in r.stores}
    assert by_code["H1"] == (40, 1) and "K1" not in by_code
    # A 80, B 80, C 40, D 80, H 40.
    assert (r.score.mean, r.score.n, r.visits) == (64, 5, 9)
    assert next(q for q in r.worst_questions if q.key == "clean").n == 9
    assert [t.label for t in r.trend] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert r.change is not None and r.change.delta == 64 - 79
    assert found.wave.name == "W4"  # the latest wave with a counted visit labels it


def test_a_year_compares_with_the_year_before_only_once(app, f):
    with app.app_context():
        found = report_periods.region_report(None, f.client, Period(date(2026, 1, 1),
                                             date(2026, 12, 31), "year"), f.admin)  # fmt: skip
    assert found is not None and found.year_change is None and found.year_label is None
    assert [t.label for t in found.report.trend] == ["2023", "2024", "2025", "2026"]


def test_a_custom_range_across_the_quarters(app, f):
    with app.app_context():
        found = report_periods.region_report(
            f.north, f.client, custom(date(2026, 3, 31), date(2026, 4, 1)), f.admin
        )
    assert found is not None
    by_code = {s.store_code: (s.stat.mean, s.stat.n) for s in found.report.stores}
    assert by_code["H1"] == (70, 2)  # both: 31 March and 1 April, local days
    assert [t.label for t in found.report.trend][-2:] == [
        "2026-03-29..2026-03-30", "2026-03-31..2026-04-01",
    ]  # fmt: skip


def test_the_quarter_page(client, f):
    login(client, f.admin)
    html = client.get(f"/reports/?region={f.north.id}&kind=quarter&period=2026-Q1").text
    assert '<option value="quarter" selected>' in html
    assert '<option value="2026-Q1" selected>' in html and '<option value="2026-Q2">' in html
    score = kpi(html, "region-score")
    assert "79.0" in score and "5 stores" in score
    assert "12 approved visits" in kpi(html, "region-pass")
    assert "−1.0" in kpi(html, "region-change")
    assert "2025-Q1" in kpi(html, "region-year")
    assert "2025-Q4: 80.0 (n = 1)" in text(html) and "2026-Q1: 79.0 (n = 5)" in text(html)
    # Store links and the question analysis keep the period, not a wave.
    assert f'href="/reports/stores/{f.h.id}"' in html
    assert "kind=quarter" in re.search(r'href="(/reports/questions[^"]*)"', html).group(1)
    assert "report.pdf" not in html
    questions = client.get(f"/reports/questions?region={f.north.id}&kind=quarter&period=2026-Q1")
    clean = next(r for r in rows(questions.text, "questions") if 'data-question="clean"' in r)
    assert "n = 12" in text(clean)


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-02-30", "2026-03-31", "from", "Enter a date as YYYY-MM-DD"),
        ("2026-03-01", "31/03/2026", "to", "Enter a date as YYYY-MM-DD"),
        ("2026-03-31", "2026-03-01", "to", "The end date is before the start date."),
    ],
)
def test_a_bad_custom_range_says_why_and_keeps_the_input(client, f, start, end, field, message):
    login(client, f.admin)
    url = f"/reports/?region={f.north.id}&kind=custom&from={start}&to={end}"
    for page in (url, url.replace("/reports/?", "/reports/questions?")):
        response = client.get(page)
        assert response.status_code == 200
        html = response.text
        label = re.search(r'<label class="[^"]*has-error[^"]*">.*?</label>', html, re.S)
        assert label and f'name="{field}"' in label.group(0)
        assert message in text(label.group(0))
        assert f'value="{start}"' in html and f'value="{end}"' in html
        assert 'id="no-report"' in html and 'id="ranking"' not in html
        assert 'id="questions"' not in html


def test_an_empty_custom_range_starts_at_the_month(client, f):
    login(client, f.admin)
    html = client.get(f"/reports/?region={f.north.id}&kind=custom").text
    assert 'value="2026-04-01"' in html and 'value="2026-04-30"' in html
    assert "has-error" not in html and 'id="ranking"' in html


def test_the_period_choice_falls_back_to_the_default(app, f):
    choice = report_periods.choose(
        {"kind": "month", "period": "1999-01"}, f.waves, date(2026, 3, 5)
    )
    assert choice.period == Period(date(2026, 3, 1), date(2026, 3, 31), "month")
    assert [p.label for p in choice.options] == ["2026-04", "2026-03", "2026-02", "2026-01"]
    assert report_periods.choose({"kind": "weekly"}, f.waves, date(2026, 3, 5)).kind == "wave"
    with app.test_request_context():
        too_long = report_periods.choose(
            {"kind": "custom", "from": "2000-01-01", "to": "2026-01-01"}, f.waves, date(2026, 3, 5)
        )
    assert too_long.period is None and "to" in too_long.errors


# --- all regions, and who may ask ------------------------------------------------------------


def test_a_manager_of_every_top_region_sees_the_whole_client(client, f):
    login(client, f.rm_roots)
    html = client.get(f"/reports/?region=all&wave={f.waves[-1].id}").text
    assert '<option value="all" selected>' in html
    assert codes(html)[:2] == ["S1", "A1"] and "S1" in codes(html) and "C1" in codes(html)
    # A 80, B 80, C 40, D 80, S 100 (H1 and K1 have no W4 visit).
    assert "76.0" in kpi(html, "region-score") and "5 stores" in kpi(html, "region-score")
    assert "report.pdf" not in html  # a region's PDF; the whole client has none
    assert client.get("/reports/questions?region=all").status_code == 200


@pytest.mark.parametrize("who", ["manager", "rm_north"])
def test_all_regions_is_404_for_a_manager_of_part_of_the_client(client, f, who):
    login(client, getattr(f, who))
    assert 'value="all"' not in client.get("/reports/").text
    for url in ("/reports/?region=all", "/reports/questions?region=all&kind=year"):
        assert client.get(url).status_code == 404, url


def test_the_agency_sees_all_regions(client, f):
    for user in (f.admin, f.coordinator):
        login(client, user)
        html = client.get(f"/reports/?client={f.client.id}").text
        assert '<option value="all">' in html


def test_another_clients_region_in_the_query_string_is_404(client, f):
    other_region = f.x.region_id
    login(client, f.manager)
    assert client.get(f"/reports/?region={other_region}").status_code == 404
    url = f"/reports/questions?region={other_region}&format=convenience"
    assert client.get(url).status_code == 404
    assert client.get(f"/reports/?client={f.x.client_id}&region=all").status_code == 404
    login(client, f.coordinator)
    assert client.get(f"/reports/?region={other_region}&kind=quarter").status_code == 404
    # A region above the manager's own is outside their scope too.
    login(client, f.manager)
    assert client.get(f"/reports/?region={f.north.id}").status_code == 404


def test_the_period_report_stays_inside_the_managers_scope(app, f):
    with app.app_context():
        found = report_periods.region_report(f.ne, f.client, Q1, f.manager)
    assert found is not None
    assert [s.store_code for s in found.report.stores] == ["A1", "B1"]
    assert found.report.score.mean == Fraction(155, 2)  # (80 + 75) / 2
