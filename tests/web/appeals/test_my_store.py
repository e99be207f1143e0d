"""The store manager's phone view: their store's published results only, the shopper
as a pseudonym, the findings that lost points with the way to appeal them.

The world is the appeals one (tests/web/worlds/appeals.py): store managers Sue (N1)
and Ned (N2), a published wave with two visits at N1 (one poor, one good) and one at
N2, all by the shopper Sam Shopperton."""

from typing import Any

import pytest

from auditapp.extensions import db
from auditapp.services.appeals import cases as appeals
from auditapp.services.core.pseudonyms import pseudonym_code
from tests.conftest import login, page_text
from tests.web.worlds.appeals import SHOPPER_NAME, build_world


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    with app.test_request_context():
        return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


def test_a_manager_of_one_store_lands_on_it(client, w):
    login(client, w.sue)
    response = client.get("/my-store/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my-store/{w.n1.id}")


def test_store_page_shows_the_published_visits_with_a_pseudonym_never_the_name(app, client, w):
    login(client, w.sue)
    html = client.get(f"/my-store/{w.n1.id}").get_data(as_text=True)
    text = page_text(html)
    with app.app_context():
        code = pseudonym_code(w.sam.id, w.client.id)
    assert SHOPPER_NAME not in html
    assert f"Shopper {code}" in text
    assert text.count(f"Shopper {code}") == 2  # both visits of N1, not N2's
    assert "Spring" in text


def test_visit_page_lists_lost_points_first_with_the_way_to_appeal(client, w):
    login(client, w.sue)
    html = client.get(f"/my-store/visits/{w.poor.id}").get_data(as_text=True)
    assert SHOPPER_NAME not in html
    findings = page_text(html.split('id="finding-greeted"', 1)[1].split("</article>", 1)[0])
    assert "Greeted within 30 seconds?" in findings
    assert f"/appeals/new/{w.poor.id}/greeted" in html
    assert f"/appeals/new/{w.poor.id}/clean" not in html  # answered yes: nothing lost


def test_a_filed_appeal_replaces_the_link_with_its_status(app, client, w):
    with app.test_request_context():
        appeal = appeals.file_appeal(w.poor, w.sue, "greeted", "We did greet")
        db.session.flush()
    login(client, w.sue)
    html = client.get(f"/my-store/visits/{w.poor.id}").get_data(as_text=True)
    assert f"/appeals/{appeal.id}" in html
    assert f"/appeals/new/{w.poor.id}/greeted" not in html


def test_another_store_and_unpublished_waves_are_not_found(client, w):
    login(client, w.sue)
    assert client.get(f"/my-store/{w.n2.id}").status_code == 404
    assert client.get(f"/my-store/visits/{w.n2_visit.id}").status_code == 404
    w.wave.published_at = None
    db.session.flush()
    assert client.get(f"/my-store/visits/{w.poor.id}").status_code == 404
    text = page_text(client.get(f"/my-store/{w.n1.id}").get_data(as_text=True))
    assert "No published results yet" in text
    assert "Shopper " not in text


def test_only_store_managers_use_this_view(client, w):
    for user in (w.rex, w.cora, w.adam):
        login(client, user)
        assert client.get("/my-store/").status_code == 404
