"""The shopper's calibration beside their recent visits on the review screen: the
leniency index signed to one place with its words, the number of comparisons, the
warning beyond the configured points, and what shows while there are too few (or no)
comparisons. The figures are services/visits/calibration.py's (tested there)."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import update

from auditapp.extensions import db
from auditapp.models.waves import Visit
from auditapp.services.review import decisions as review
from tests.conftest import login, page_text
from tests.web.worlds.review import build_world, submitted


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper):
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


def calibration(client, visit: Visit) -> str:
    """The text of the calibration beside the shopper's recent visits."""
    html = client.get(f"/review/visits/{visit.id}").text
    match = re.search(r'<div class="rv-calibration" id="calibration">.*?</div>', html, re.S)
    assert match, "no calibration on the review screen"
    return " ".join(page_text(match.group(0)).split())


def approve_with_score(app, w, shopper, score: str) -> None:
    visit = submitted(w, w.store_north, shopper)
    with app.test_request_context():
        review.approve(visit, w.reviewer)
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(score=Decimal(score)))
    db.session.commit()


def test_the_review_screen_shows_the_shoppers_leniency_beside_their_history(app, client, w):
    ann_waiting = submitted(w, w.store_south, w.ann)
    bob_waiting = submitted(w, w.store_south, w.bob)
    login(client, w.reviewer)
    assert "No comparisons yet" in calibration(client, ann_waiting)

    # Store north, spring wave: Ann 90, 90, 90 against Bob's 70 -> Ann +20.0 over 3
    # comparisons (beyond 8 points: warned); Bob -20.0 over 1 (too few to judge).
    for _n in range(3):
        approve_with_score(app, w, w.ann, "90")
    approve_with_score(app, w, w.bob, "70")

    ann = calibration(client, ann_waiting)
    assert "Leniency index +20.0 more lenient than peers" in ann
    assert "Beyond ±8 points" in ann and "Comparisons 3" in ann
    assert "Not enough comparisons yet" not in ann
    bob = calibration(client, bob_waiting)
    assert "-20.0 harsher than peers" in bob and "Comparisons 1" in bob
    assert "Not enough comparisons yet" in bob and "Beyond" not in bob


def test_a_reviewer_of_another_client_counts_only_their_clients(app, client, w):
    for _n in range(3):
        approve_with_score(app, w, w.ann, "90")
    approve_with_score(app, w, w.bob, "70")
    foreign = submitted(w, w.store_other, w.ann)
    login(client, w.outsider)  # reviews the other client only: none of the above counts
    assert "No comparisons yet" in calibration(client, foreign)
