"""Report dashboards: the region report, the store scorecard, the question analysis, the
two PDFs and the batch ZIP, over visits submitted through the visit form and approved
by the reviewer, so their stored results are the app's own.

The world is the review tests' (client REVW: North ── N1, North area ── NA1; South ──
S1; a 10-point pooled checklist, pass mark 80, bands Excellent ≥ 90 and Poor), with a
Winter wave before the Spring one:

    store   Winter   Spring
    N1      100      45, 80    -> 62.5 (n 2)
    NA1     45       100, 80   -> 90.0 (n 2)
    S1      80       45        (South: never in North's figures)

North in Spring: (62.5 + 90) / 2 = 76.25, shown half-up as 76.3 over 2 stores (low
sample); in Winter (100 + 45) / 2 = 72.5, so the change is +3.75, shown as +3.8.
"""

import io
import re
import zipfile
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask

from auditapp.extensions import db
from auditapp.models import utcnow
from tests.conftest import count_queries, csrf_token, login, page_text
from tests.web.worlds.reading import rows, text
from tests.web.worlds.review import BEST, GOOD, MID, _wave, approved, build_world


@pytest.fixture
def w(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    w.winter = _wave(w.client, w.version, "Winter wave", [w.store_north, w.store_area])
    w.winter.starts_on -= timedelta(days=90)  # the waves before it end before it starts
    w.winter.ends_on = w.wave.starts_on - timedelta(days=1)
    w.wave.previous_wave = w.winter
    w.rm_north = make_user("rm.north@example.com", "regional_manager", client=w.client,
                           regions=[w.north])  # fmt: skip
    w.rm_south = make_user("rm.south@example.com", "regional_manager", client=w.client,
                           regions=[w.south])  # fmt: skip
    w.store_manager = make_user("sm.area@example.com", "store_manager", client=w.client,
                                stores=[w.store_area])  # fmt: skip
    db.session.commit()
    for store, fields, wave in [
        (w.store_north, BEST, w.winter), (w.store_area, GOOD, w.winter),
        (w.store_south, MID, w.winter),
        (w.store_north, GOOD, w.wave), (w.store_north, MID, w.wave),
        (w.store_area, BEST, w.wave), (w.store_area, MID, w.wave),
        (w.store_south, GOOD, w.wave),
    ]:  # fmt: skip
        approved(w, store, fields, wave)
    for wave in (w.winter, w.wave):  # the client's managers read published waves only
        wave.published_at = utcnow()
    db.session.commit()
    return w


def north(w: Any) -> str:
    return f"/reports/?region={w.north.id}&wave={w.wave.id}"


# --- the region report ----------------------------------------------------------------------


def test_the_region_report_shows_score_n_change_and_ranking(client, w):
    login(client, w.rm_north)
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.text
    # The manager starts at their own region and the latest wave with approved visits.
    assert re.search(rf'<option value="{w.north.id}" selected>', html)
    assert re.search(rf'<option value="{w.wave.id}" selected>', html)
    score = text(re.search(r'id="region-score".*?</li>', html, re.S).group(0))
    assert "76.3" in score  # 76.25, half-up
    assert "2 stores" in score and "low sample" in score
    change = text(re.search(r'id="region-change".*?</li>', html, re.S).group(0))
    assert "+3.8" in change and "not significant" in change
    ranking = rows(html, "ranking")[1:]
    assert [re.search(r'data-store="(\w+)"', r).group(1) for r in ranking] == ["NA1", "N1"]
    first, second = (text(r) for r in ranking)
    assert "90.0" in first and "n = 2" in first and "+45.0" in first and "Excellent" in first
    assert "62.5" in second and "−37.5" in second and "Poor" in second and "50%" in second
    assert f'href="/reports/stores/{w.store_area.id}?wave={w.wave.id}"' in html
    assert "S1" not in page_text(html) and "South store" not in html
    # Pass rate: 80 passes (mark 80), 45 does not: 3 of 4 visits.
    assert "75%" in text(re.search(r'id="region-pass".*?</li>', html, re.S).group(0))
    # Section and trend charts are inline SVG; grades 1 Excellent, 3 Poor.
    assert "<svg" in html and 'class="rp-line"' in html
    grades = [text(r) for r in rows(html, "grades")[1:]]
    assert grades[0].startswith("Excellent") and " 1 " in f" {grades[0]} "
    assert grades[1].startswith("Poor") and "75%" in grades[1]
    assert f"/reports/regions/{w.north.id}/report.pdf?wave={w.wave.id}" in html


def test_an_agency_user_picks_client_wave_and_region(client, w):
    login(client, w.coordinator)
    html = client.get(north(w)).text
    assert [re.search(r'data-store="(\w+)"', r).group(1) for r in rows(html, "ranking")[1:]] == [
        "NA1",
        "N1",
    ]
    # The sub-area alone: one store.
    html = client.get(f"/reports/?region={w.north_area.id}&wave={w.wave.id}").text
    assert [re.search(r'data-store="(\w+)"', r).group(1) for r in rows(html, "ranking")[1:]] == [
        "NA1"
    ]
    # The earlier wave: N1 first at 100.
    html = client.get(f"/reports/?region={w.north.id}&wave={w.winter.id}").text
    first = text(rows(html, "ranking")[1])
    assert "N1" in first and "100.0" in first
    assert "no previous wave" in text(html)


def test_a_region_or_wave_of_another_client_is_ignored_when_the_client_changes(client, w):
    login(client, w.admin)
    other = w.other.id
    response = client.get(f"/reports/?client={other}&region={w.north.id}&wave={w.wave.id}")
    assert response.status_code == 200
    assert "Other brand" in response.text and "North store" not in response.text


def test_the_region_report_in_chinese(client, w):
    login(client, w.rm_north)
    response = client.get(north(w), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in response.text
    assert "主要" in response.text  # the checklist's own translation of "Main"
    assert "76.3" in response.text


def test_store_managers_are_sent_to_their_store(client, w):
    login(client, w.store_manager)
    response = client.get("/reports/")
    assert response.status_code == 302
    assert response.location.endswith(f"/reports/stores/{w.store_area.id}")


@pytest.mark.parametrize("who", ["reviewer", "ann", "outsider_coordinator", "rm_south"])
def test_readers_outside_the_region_get_404(client, w, who):
    user = w.ann.user if who == "ann" else getattr(w, who)
    login(client, user)
    for url in (
        north(w),
        f"/reports/questions?region={w.north.id}&wave={w.wave.id}",
        f"/reports/stores/{w.store_north.id}?wave={w.wave.id}",
        f"/reports/stores/{w.store_north.id}/scorecard.pdf?wave={w.wave.id}",
        f"/reports/regions/{w.north.id}/report.pdf?wave={w.wave.id}",
    ):
        assert client.get(url).status_code == 404, url


def test_the_south_manager_sees_only_south(client, w):
    login(client, w.rm_south)
    html = client.get("/reports/").text
    assert [re.search(r'data-store="(\w+)"', r).group(1) for r in rows(html, "ranking")[1:]] == [
        "S1"
    ]
    assert "North" not in page_text(html)


def test_the_region_page_needs_no_query_per_store(app, client, w, make_store):
    login(client, w.coordinator)
    client.get(north(w))  # warm up
    with count_queries(app) as before:
        client.get(north(w))
    extra = make_store(w.client, w.north, "N2", name="North two")
    w.wave.stores.append(extra)
    db.session.commit()
    approved(w, extra, MID, w.wave)
    with count_queries(app) as after:
        html = client.get(north(w)).text
    assert "N2" in html
    assert len(after) == len(before)


# --- the store scorecard ----------------------------------------------------------------------


def test_the_store_scorecard(client, w):
    login(client, w.store_manager)
    response = client.get(f"/reports/stores/{w.store_area.id}")
    assert response.status_code == 200
    html = response.text
    score = text(re.search(r'id="store-score".*?</li>', html, re.S).group(0))
    assert "90.0" in score and "2 visits" in score and "Excellent" in score and "Pass" in score
    assert "low sample" in score and "±" in score
    assert "+45.0" in text(re.search(r'id="store-change".*?</li>', html, re.S).group(0))
    assert "1 / 1" in text(re.search(r'id="store-rank".*?</li>', html, re.S).group(0))
    # Two visits, each with its questions, answers and points; the comments; no shopper.
    assert html.count('class="card rp-visit"') == 2
    assert "Greeted?" in html and "1 / 1" in text(html)
    assert "Quiet store." in html
    assert "Ann Shopper" not in html and "ann.review@example.com" not in html
    assert f"/reports/stores/{w.store_area.id}/scorecard.pdf?wave={w.wave.id}" in html
    # A store manager has no region report to go back to.
    assert "/reports/?" not in html


def test_the_store_scorecard_ranks_within_its_region(client, w):
    login(client, w.rm_north)
    html = client.get(f"/reports/stores/{w.store_north.id}?wave={w.wave.id}").text
    assert "2 / 2" in text(re.search(r'id="store-rank".*?</li>', html, re.S).group(0))
    assert "62.5" in text(re.search(r'id="store-score".*?</li>', html, re.S).group(0))
    # Main (58.3) is 21.7 short of its 80; Exit (100) meets it and is not listed.
    improve = text(re.search(r'id="to-improve".*?</ol>', html, re.S).group(0))
    assert "Main : 58.3" in improve and "21.7 short" in improve and "Exit" not in improve


def test_a_store_manager_cannot_open_another_store(client, w):
    login(client, w.store_manager)
    assert client.get(f"/reports/stores/{w.store_north.id}").status_code == 404
    assert client.get(f"/reports/stores/{w.store_north.id}/scorecard.pdf").status_code == 404
    assert client.get(f"/reports/regions/{w.north_area.id}/report.pdf").status_code == 404
    assert client.get("/reports/questions").status_code == 404


def test_a_wave_of_another_client_is_404_on_the_store_page(client, w):
    login(client, w.admin)
    url = f"/reports/stores/{w.store_north.id}?wave={w.other_wave.id}"
    assert client.get(url).status_code == 404


# --- questions ----------------------------------------------------------------------------------


def test_the_question_analysis_lists_every_question_worst_first(client, w):
    login(client, w.rm_north)
    html = client.get(f"/reports/questions?region={w.north.id}&wave={w.wave.id}").text
    keys = [re.search(r'data-question="(\w+)"', r).group(1) for r in rows(html, "questions")[1:]]
    # extras 7/12, wait 5/8, staff and rating 7/8 (same full-credit share: checklist
    # order), greeted and thanked 4/4.
    assert keys == ["extras", "wait_s", "staff", "rating", "greeted", "thanked"]
    extras = text(rows(html, "questions")[1])
    assert "58.3%" in extras and "n = 4" in extras


def test_the_tag_table_pools_compliance_and_effectiveness(app: Flask) -> None:
    from flask import render_template_string

    from auditapp.views.reports import charts as report_charts
    from reports.cards import TagLine

    tags = [
        TagLine("compliance", Fraction(13, 15), Fraction(2, 3), 2, 15),
        TagLine("effectiveness", Fraction(3, 7), Fraction(3, 7), 1, 7),
    ]
    page = '{% import "reports/_macros.html" as rp with context %}{{ rp.tag_table(tags) }}'
    with app.test_request_context():
        html = render_template_string(page, tags=tags, **report_charts.helpers())
    compliance, effectiveness = (text(r) for r in re.findall(r"<tr><th scope=.*?</tr>", html, re.S))
    assert "standard followed" in compliance and "2 questions" in compliance
    assert "86.7%" in compliance and "n = 15" in compliance
    assert "did it work" in effectiveness and "1 question" in effectiveness
    assert "42.9%" in effectiveness and "n = 7" in effectiveness


# --- PDFs and the batch ---------------------------------------------------------------------------


def test_the_store_scorecard_pdf(client, w):
    login(client, w.rm_north)
    response = client.get(f"/reports/stores/{w.store_area.id}/scorecard.pdf?wave={w.wave.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "scorecard-NA1-Spring-wave.pdf" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"  # views/downloads.py


def test_the_region_report_pdf(client, w):
    login(client, w.coordinator)
    response = client.get(f"/reports/regions/{w.north.id}/report.pdf?wave={w.wave.id}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert "region-report-RN-Spring-wave.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_pdfs_are_404_for_a_manager_of_another_region(client, w):
    login(client, w.rm_south)
    wave = w.wave.id
    assert client.get(f"/reports/regions/{w.north.id}/report.pdf?wave={wave}").status_code == 404
    url = f"/reports/stores/{w.store_area.id}/scorecard.pdf?wave={wave}"
    assert client.get(url).status_code == 404


def test_the_batch_of_store_scorecards(client, w, make_user):
    login(client, w.rm_north)
    response = client.post(
        f"/reports/regions/{w.north.id}/scorecards",
        data={"csrf_token": csrf_token(client), "wave": str(w.wave.id)},
    )
    assert response.status_code == 302
    progress_url = response.location
    page = client.get(progress_url)
    assert page.status_code == 200
    assert 'data-status="done"' in page.text  # jobs run inline in the tests
    assert 'http-equiv="refresh"' not in page.text
    link = re.search(r'href="(/reports/batches/\w+/scorecards\.zip)"', page.text)
    assert link
    archive = client.get(link.group(1))
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert archive.headers["Cache-Control"] == "private, no-store"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as found:
        names = sorted(found.namelist())
        assert names == ["N1 North store.pdf", "NA1 North area store.pdf"]
        assert all(found.read(n).startswith(b"%PDF") for n in names)
    # Nobody else may follow the batch, not even another manager of North.
    other = make_user("rm.north2@example.com", "regional_manager", client=w.client,
                      regions=[w.north])  # fmt: skip
    db.session.commit()
    login(client, other)
    assert client.get(progress_url).status_code == 404
    assert client.get(link.group(1)).status_code == 404


def test_a_batch_for_another_region_is_refused(client, w):
    login(client, w.rm_south)
    response = client.post(
        f"/reports/regions/{w.north.id}/scorecards",
        data={"csrf_token": csrf_token(client), "wave": str(w.wave.id)},
    )
    assert response.status_code == 404


def test_the_store_manager_index_with_several_stores_lists_them(client, w):
    w.store_manager.stores.append(w.store_north)
    db.session.commit()
    login(client, w.store_manager)
    response = client.get("/reports/")
    assert response.status_code == 200
    assert [s for s in ("North store", "North area store") if s in response.text] == [
        "North store",
        "North area store",
    ]
