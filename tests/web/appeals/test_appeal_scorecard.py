"""Acceptance: an upheld appeal changes the visit's score exactly as `python -m scoring`
says, keeps the original, and both show on the store's scorecard, in the PDF (read
back with pdftotext) and on the store page; every other figure uses the adjusted
score. The world is the appeals one (tests/web/worlds/appeals.py): N1's poor visit
scores 33.3 (Poor, FAIL), its good one 100; upholding "staff" (rude -> warm) makes the
poor one 73.3."""

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import scoring
from auditapp.extensions import db
from auditapp.services.appeals import cases as appeals
from auditapp.services.reporting import rows as report_rows
from auditapp.services.scorecards import pdfs as scorecards
from tests.conftest import login, page_text
from tests.web.scorecard_cards import pdf_text, words
from tests.web.worlds.appeals import SHOPPER_NAME, answers_of, build_world, cli_score


@pytest.fixture
def aw(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    world = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    with app.test_request_context():
        appeal = appeals.file_appeal(world.poor, world.sue, "staff", "The staff were polite")
        appeals.uphold(appeal, world.cora, "The receipt shows a greeting.", {"q_staff": "warm"})
    db.session.commit()
    return world


def scorecard_pdf(app: Flask, w: Any, user: Any) -> bytes:
    client = login(app.test_client(), user)
    response = client.get(f"/reports/stores/{w.n1.id}/scorecard.pdf?wave={w.wave.id}")
    assert response.status_code == 200, response.status_code
    return response.data


def test_the_scorecard_pdf_shows_the_original_and_the_adjusted_score(app, aw, tmp_path: Path):
    visit = aw.poor
    cli = cli_score(aw.version, answers_of(visit), tmp_path)
    assert cli["score"] == scoring.round_half_up(Fraction(visit.score_exact), 1) == Decimal("73.3")
    assert (visit.original_score, visit.original_grade) == (Decimal("33.3333"), "Poor")
    text = words(pdf_text(scorecard_pdf(app, aw, aw.cora), tmp_path))
    assert (
        "Adjusted after an upheld appeal. Original score 33.3 · Poor · Fail; "
        "adjusted score 73.3 · Poor · Fail." in text
    )
    assert text.count("Original score") == 1  # the good visit was never adjusted
    # The store's score is the mean of the adjusted scores: (220/3 + 100) / 2 = 86.7.
    assert "86.7" in text


def test_the_store_managers_pdf_shows_both_and_never_the_shopper(app, aw, tmp_path: Path):
    text = words(pdf_text(scorecard_pdf(app, aw, aw.sue), tmp_path))
    assert "Original score 33.3" in text and "adjusted score 73.3" in text
    assert SHOPPER_NAME not in text


def test_the_store_page_lists_the_adjusted_visit_with_its_original(app, aw):
    client = login(app.test_client(), aw.cora)
    page = client.get(f"/reports/stores/{aw.n1.id}?wave={aw.wave.id}")
    assert page.status_code == 200
    shown = " ".join(page_text(page.text).split())
    assert "73.3" in shown
    assert "Adjusted after an upheld appeal; original score 33.3 · Poor" in shown
    assert f'id="original-{aw.poor.id}"' in page.text
    assert f'id="original-{aw.good.id}"' not in page.text


def test_the_card_carries_the_original_and_reports_use_the_adjusted(app, aw):
    with app.test_request_context():
        card = scorecards.store_scorecard(aw.n1, aw.wave, aw.cora, "en")
        region = report_rows.region_report(aw.north, aw.wave, aw.cora, "en")
    poor = next(v for v in card.visits if v.visit_id == aw.poor.id)
    good = next(v for v in card.visits if v.visit_id == aw.good.id)
    assert (poor.adjusted, poor.score, poor.grade, poor.passed) == (
        True, Fraction(220, 3), "Poor", False
    )  # fmt: skip
    assert (poor.original_score, poor.original_grade, poor.original_passed) == (
        Fraction(100, 3), "Poor", False
    )  # fmt: skip
    assert not good.adjusted and good.original_score is None
    assert card.score.mean == (Fraction(220, 3) + 100) / 2
    n1 = next(row for row in region.stores if row.store_code == "N1")
    assert n1.stat.mean == (Fraction(220, 3) + 100) / 2
