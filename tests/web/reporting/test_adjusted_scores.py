"""Shopper-adjusted store scores (services/reporting/adjusted_scores.py) on the store page, the
region report, its ranking and the two PDFs, for a client that turns them on.

The world is the report tests' (client REVW: North ── N1, North area ── NA1; South ──
S1; scores 45, 80 or 100), with two shoppers: Ann, strict, and Bob, lenient. Visits
are submitted through the visit form and approved by the reviewer:

    store   Winter (published)     Spring (published, the reference)
    N1      Ann 45, Bob 80         Ann 45, Bob 100     raw 72.5
    NA1     Ann 80, Bob 100        Bob 80, Bob 100     raw 90    (Bob alone)
    S1      Bob 100, Ann 45        Ann 80, Ann 80      raw 80    (Ann alone)

Raw, Spring ranks NA1, S1, N1; with Bob's leniency taken out of NA1 and Ann's
strictness out of S1, S1 comes first and NA1 falls below N1 (whose visits were one
each, so their effects cancel).
"""

import io
import math
import re
import statistics
import zipfile
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from flask import Flask

from auditapp.errors import NotFound
from auditapp.extensions import db
from auditapp.models import Store, utcnow
from auditapp.models.waves import Wave
from auditapp.services.reporting import adjusted_scores
from auditapp.services.review import decisions as review
from auditapp.services.scorecards import pdfs as scorecards
from auditapp.services.scorecards.pdfs import store_scorecard_pdf
from reports.adjusted import adjusted_store_scores
from reports.cards import Stat, StoreRow
from reports.render import number
from reports.stats import t_quantile
from tests.conftest import csrf_token, login, page_text
from tests.web.scorecard_cards import pdf_text, words
from tests.web.worlds.reading import rows
from tests.web.worlds.review import BEST, GOOD, MID, _wave, build_world, submitted

SCORES = {45: GOOD, 80: MID, 100: BEST}
WINTER = [("N1", "ann", 45), ("N1", "bob", 80), ("NA1", "ann", 80), ("NA1", "bob", 100),
          ("S1", "bob", 100), ("S1", "ann", 45)]  # fmt: skip
SPRING = [("N1", "ann", 45), ("N1", "bob", 100), ("NA1", "bob", 80), ("NA1", "bob", 100),
          ("S1", "ann", 80), ("S1", "ann", 80)]  # fmt: skip
# An earlier wave not yet published: Bob strict and Ann lenient, against their habits.
AUTUMN = [("N1", "bob", 45), ("NA1", "ann", 100), ("S1", "ann", 100), ("S1", "bob", 45)]
SENTENCE = "Adjusted for who visited"


@pytest.fixture
def aw(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    stores = [w.store_north, w.store_area, w.store_south]
    w.winter = _wave(w.client, w.version, "Winter wave", stores)
    w.winter.starts_on -= timedelta(days=90)
    w.winter.ends_on = w.wave.starts_on - timedelta(days=1)
    w.wave.previous_wave = w.winter
    w.rm_north = make_user("rm.adj@example.com", "regional_manager", client=w.client,
                           regions=[w.north])  # fmt: skip
    w.store_manager = make_user("sm.adj@example.com", "store_manager", client=w.client,
                                stores=[w.store_south])  # fmt: skip
    w.client.adjusted_scores = True
    w.codes = {"N1": w.store_north, "NA1": w.store_area, "S1": w.store_south}
    w.shoppers = {"ann": w.ann, "bob": w.bob}
    db.session.commit()
    visit_all(w, WINTER, w.winter)
    visit_all(w, SPRING, w.wave)
    for wave in (w.winter, w.wave):
        wave.published_at = utcnow()
    db.session.commit()
    return w


def visit_all(w: SimpleNamespace, plan: list[tuple[str, str, int]], wave: Wave) -> None:
    for code, who, score in plan:
        store: Store = w.codes[code]
        visit = submitted(w, store, w.shoppers[who], wave=wave, fields=SCORES[score])
        with w.app.test_request_context():
            review.approve(visit, w.reviewer)
        db.session.commit()


def expected(*waves: list[tuple[str, str, int]]) -> dict[str, tuple[float, int, float | None]]:
    """By hand from the scenario: reports.adjusted over the window's visits, each store
    in each wave its own fixed effect, then each store's Spring mean minus the mean of
    its Spring visits' shopper effects (each visit kept within 0..100); the interval's
    half-width t · s / √n over those adjusted visit scores."""
    rows = [
        (f"{code}@{n}", who, score) for n, wave in enumerate(waves) for code, who, score in wave
    ]
    _stores, shoppers = adjusted_store_scores(
        pd.DataFrame(rows, columns=["store", "shopper", "score"])
    )
    effect = dict(zip(shoppers["shopper"], shoppers["effect"], strict=True))
    out = {}
    for code in ("N1", "NA1", "S1"):
        mine = [(who, score) for c, who, score in SPRING if c == code]
        values = [min(max(score - effect[who], 0.0), 100.0) for who, score in mine]
        spread = statistics.stdev(values) / math.sqrt(len(values))
        half = t_quantile(0.975, len(values) - 1) * spread
        out[code] = (statistics.mean(values), len(mine), half)
    return out


def kpi(html: str, kpi_id: str) -> str:
    found = re.search(rf'id="{kpi_id}".*?</li>', html, re.S)
    assert found, f"no #{kpi_id}"
    return " ".join(page_text(found.group(0)).split())


def order(html: str) -> list[str]:
    return [re.search(r'data-store="(\w+)"', r).group(1) for r in rows(html, "ranking")[1:]]


# --- the service ---------------------------------------------------------------------------


def test_the_adjusted_score_takes_each_visits_shopper_effect_out_of_the_waves_mean(aw):
    scores = adjusted_scores.wave_scores(aw.wave, aw.coordinator)
    assert scores.waves == 2  # Spring and the published Winter before it
    want = expected(WINTER, SPRING)
    for code, (figure, n, half) in want.items():
        stat = scores.stores[code]
        assert stat.n == n
        assert stat.mean is not None and stat.low is not None and stat.high is not None
        assert float(stat.mean) == pytest.approx(figure, abs=1e-9)
        # Clipped to 0..100, like every interval of the reports.
        assert float(stat.low) == pytest.approx(max(figure - half, 0), abs=1e-6)
        assert float(stat.high) == pytest.approx(min(figure + half, 100), abs=1e-6)
    # Bob is lenient: NA1 (Bob alone) goes down, S1 (Ann alone) up, N1 (both) stays.
    assert want["NA1"][0] < 90 and want["S1"][0] > 80
    assert want["N1"][0] == pytest.approx(72.5)


def test_the_fit_window_is_the_wave_and_the_published_waves_before_it(aw):
    autumn = _wave(aw.client, aw.version, "Autumn wave", list(aw.codes.values()))
    autumn.starts_on = aw.wave.starts_on - timedelta(days=20)  # between Winter and Spring
    later = _wave(aw.client, aw.version, "Summer wave", list(aw.codes.values()))
    later.starts_on = aw.wave.starts_on + timedelta(days=1)
    later.published_at = utcnow()
    db.session.commit()
    assert adjusted_scores.window(aw.wave) == [aw.wave.id, aw.winter.id]
    autumn.published_at = utcnow()
    assert adjusted_scores.window(aw.wave) == [aw.wave.id, autumn.id, aw.winter.id]


def test_a_client_manager_gets_the_figure_of_published_waves_only(aw, client):
    autumn = _wave(aw.client, aw.version, "Autumn wave", list(aw.codes.values()))
    autumn.starts_on = aw.wave.starts_on - timedelta(days=20)
    db.session.commit()
    visit_all(aw, AUTUMN, autumn)  # approved, never published
    published = expected(WINTER, SPRING)["NA1"][0]
    with_autumn = expected(WINTER, AUTUMN, SPRING)["NA1"][0]
    assert number(Fraction(repr(published))) != number(Fraction(repr(with_autumn)))

    url = f"/reports/stores/{aw.store_area.id}?wave={aw.wave.id}"
    for reader in (aw.rm_north, aw.coordinator):  # the same figure for everyone
        shown = kpi(login(client, reader).get(url).text, "store-adjusted")
        assert number(Fraction(repr(published))) in shown
    with pytest.raises(NotFound):  # an unpublished reference wave: not for the client
        adjusted_scores.wave_scores(autumn, aw.rm_north)
    hidden = f"/reports/stores/{aw.store_north.id}?wave={autumn.id}"
    assert login(client, aw.rm_north).get(hidden).status_code == 404


def test_only_the_stores_the_reader_may_see_are_returned(aw):
    scores = adjusted_scores.wave_scores(aw.wave, aw.rm_north)
    assert set(scores.stores) == {"N1", "NA1"}
    # ... but the fit still used S1's visits: the figures are the head office's.
    everyone = adjusted_scores.wave_scores(aw.wave, aw.coordinator)
    assert scores.stores["NA1"] == everyone.stores["NA1"]


def test_the_adjusted_ranking_breaks_ties_by_more_visits_then_code():
    row = lambda code: StoreRow(rank=None, store_code=code, store_name=code, stat=Stat(None, 0))  # noqa: E731
    figures = {
        "B2": Stat(Fraction("80.04"), 2), "A1": Stat(Fraction("79.96"), 2),
        "C3": Stat(Fraction("80.01"), 3), "D4": Stat(Fraction("90"), 1),
    }  # fmt: skip
    ranked = adjusted_scores.ranked([row(c) for c in ("A1", "B2", "C3", "D4", "E5")], figures, 1)
    assert [(r.rank, r.store_code) for r in ranked] == [
        (1, "D4"), (2, "C3"), (3, "A1"), (4, "B2"), (None, "E5"),
    ]  # fmt: skip


# --- the pages -----------------------------------------------------------------------------


def test_the_store_page_shows_the_adjusted_score_only_when_the_client_turns_it_on(aw, client):
    login(client, aw.store_manager)
    url = f"/reports/stores/{aw.store_south.id}?wave={aw.wave.id}"
    html = client.get(url).text
    figure, n, _half = expected(WINTER, SPRING)["S1"]
    shown = kpi(html, "store-adjusted")
    assert "Adjusted score" in shown and number(Fraction(repr(figure))) in shown
    assert f"{n} visits" in shown and "±" in shown
    assert SENTENCE in page_text(html) and "this wave and 1 published wave before it" in page_text(
        html
    )
    assert "80.0" in kpi(html, "store-score")  # the raw score stays beside it

    aw.client.adjusted_scores = False
    db.session.commit()
    html = client.get(url).text
    assert 'id="store-adjusted"' not in html and SENTENCE not in page_text(html)
    assert "80.0" in kpi(html, "store-score")


def test_the_region_report_shows_adjusted_scores_only_when_the_client_turns_them_on(aw, client):
    login(client, aw.rm_north)
    url = f"/reports/?region={aw.north.id}&wave={aw.wave.id}"
    html = client.get(url).text
    want = expected(WINTER, SPRING)
    by_code = dict(zip(order(html), rows(html, "ranking")[1:], strict=True))
    assert number(Fraction(repr(want["NA1"][0]))) in page_text(by_code["NA1"])
    assert "90.0" in page_text(by_code["NA1"])
    assert SENTENCE in page_text(html) and 'id="rank-by"' in html
    # The region PDF offered beside a ranking is ranked the same way.
    links = re.findall(r'href="([^"]*/report\.pdf[^"]*)"', html)
    assert links and "rank=" not in links[0]
    links = re.findall(r'href="([^"]*/report\.pdf[^"]*)"', client.get(url + "&rank=adjusted").text)
    assert links and "rank=adjusted" in links[0]

    aw.client.adjusted_scores = False
    db.session.commit()
    html = client.get(url).text
    assert SENTENCE not in page_text(html) and 'id="rank-by"' not in html
    assert "Adjusted" not in page_text(html)
    assert order(client.get(url + "&rank=adjusted").text) == ["NA1", "N1"]  # raw, as before


def test_the_ranking_can_use_the_adjusted_scores(aw, client):
    login(client, aw.coordinator)
    url = f"/reports/?client={aw.client.id}&region=all&wave={aw.wave.id}"
    assert order(client.get(url).text) == ["NA1", "S1", "N1"]
    html = client.get(url + "&rank=adjusted").text
    assert order(html) == ["S1", "N1", "NA1"]
    assert re.findall(r'data-rank="(\d+)"', html) == ["1", "2", "3"]
    assert "<strong aria-current" in html and "rank=raw" in html


# --- the PDFs ------------------------------------------------------------------------------


def test_the_pdfs_print_the_adjusted_score_and_its_sentence(aw, client, tmp_path):
    want = expected(WINTER, SPRING)
    login(client, aw.rm_north)
    pdf = client.get(f"/reports/stores/{aw.store_area.id}/scorecard.pdf?wave={aw.wave.id}").data
    text = words(pdf_text(pdf, tmp_path))
    assert "ADJUSTED SCORE" in text.upper() and SENTENCE in text
    assert number(Fraction(repr(want["NA1"][0]))) in text
    pdf = client.get(f"/reports/regions/{aw.north.id}/report.pdf?wave={aw.wave.id}").data
    text = words(pdf_text(pdf, tmp_path))
    assert SENTENCE in text and "ranked by their adjusted score" not in text
    for code in ("N1", "NA1"):
        assert number(Fraction(repr(want[code][0]))) in text
    url = f"/reports/regions/{aw.north.id}/report.pdf?wave={aw.wave.id}&rank=adjusted"
    assert "ranked by their adjusted score" in words(pdf_text(client.get(url).data, tmp_path))


def test_the_batch_scorecards_print_the_adjusted_score(aw, client, tmp_path):
    login(client, aw.rm_north)
    response = client.post(
        f"/reports/regions/{aw.north.id}/scorecards",
        data={"csrf_token": csrf_token(client), "wave": str(aw.wave.id)},
    )
    page = client.get(response.location).text  # the jobs run inline in the tests
    link = re.search(r'href="(/reports/batches/\w+/scorecards\.zip)"', page)
    assert link
    with zipfile.ZipFile(io.BytesIO(client.get(link.group(1)).data)) as archive:
        text = words(pdf_text(archive.read("NA1 North area store.pdf"), tmp_path))
    assert SENTENCE in text
    assert number(Fraction(repr(expected(WINTER, SPRING)["NA1"][0]))) in text


def test_the_chinese_scorecard_prints_the_adjusted_score(aw, app, tmp_path):
    figure = number(Fraction(repr(expected(WINTER, SPRING)["S1"][0])))
    with app.test_request_context():
        card = scorecards.store_scorecard(aw.store_south, aw.wave, aw.coordinator, "zh_Hans")
        scores = adjusted_scores.for_wave(aw.wave, aw.coordinator)
        pdf = store_scorecard_pdf(card, "zh_Hans", 1, scores)
        plain = store_scorecard_pdf(card, "zh_Hans", 1)
    assert figure in pdf_text(pdf, tmp_path)
    assert figure not in pdf_text(plain, tmp_path)


# --- the setting ---------------------------------------------------------------------------


def test_a_coordinator_turns_adjusted_scores_on_in_the_client_settings(aw, client):
    aw.client.adjusted_scores = False
    db.session.commit()
    login(client, aw.coordinator)
    page = client.get(f"/clients/{aw.client.id}/edit").text
    assert "Show shopper-adjusted scores" in page
    form = {
        "code": aw.client.code, "name": aw.client.name, "rotation_days": "90",
        "action_threshold": "50", "critical_action_days": "7", "action_days": "30",
        "alert_threshold": "70", "appeal_days": "14", "appeal_decision_days": "7",
        "active": "y",
    }  # fmt: skip
    token = csrf_token(client)
    response = client.post(
        f"/clients/{aw.client.id}/edit",
        data=form | {"csrf_token": token, "adjusted_scores": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(aw.client)
    assert aw.client.adjusted_scores is True
    client.post(f"/clients/{aw.client.id}/edit", data=form | {"csrf_token": token})
    db.session.refresh(aw.client)
    assert aw.client.adjusted_scores is False


def test_a_score_is_read_exactly_before_it_becomes_a_float():
    assert adjusted_scores._float("1249/20", Decimal("62.4500")) == 62.45
    assert adjusted_scores._float(None, Decimal("66.6667")) == 66.6667
