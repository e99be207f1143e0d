"""The calendar feed's address can be revoked: each shopper has a random secret of
their own in it, which the shopper can change (the old address then finds nothing)
and which a coordinator or an admin can revoke from the shopper's page."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import ACCEPTED
from auditapp.services.core import calendar
from tests.conftest import csrf_token, login, page_text
from tests.web.access.my_visits import make_visit, make_wave


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper, make_user):
    client = make_client("FEED", name="Feed brand")
    store = make_store(client, make_region(client, "R1"), "F1", name="Feed store")
    ann = make_shopper("ann.feed@example.com", name="Ann")
    bob = make_shopper("bob.feed@example.com", name="Bob")
    wave = make_wave(client, [store])
    soon = utcnow().replace(microsecond=0) + timedelta(days=3)
    make_visit(wave, store, soon, shopper=ann, status=ACCEPTED)
    world = SimpleNamespace(
        ann=ann,
        bob=bob,
        coordinator=make_user("coord.feed@example.com", "coordinator", clients=[client]),
        admin=make_user("admin.feed@example.com", "admin"),
    )
    db.session.commit()  # a refused request's rollback must not undo the set-up
    return world


def feed(client, token: str):
    """The feed as a calendar app fetches it: without the signed-in user's session."""
    return client.application.test_client().get(f"/my/calendar/{token}.ics")


def shown_token(page: str) -> str:
    match = re.search(r'value="http://auditapp\.test/my/calendar/([^"]+)\.ics"', page)
    assert match, "no feed address on the page"
    return match.group(1)


def test_each_shopper_has_a_random_secret_of_their_own(world):
    tokens = {world.ann.calendar_token, world.bob.calendar_token}
    assert len(tokens) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in tokens)


def test_old_address_stops_working_once_the_shopper_changes_it(app, client, world):
    login(client, world.ann.user)
    old = shown_token(client.get("/my/").text)
    assert feed(client, old).status_code == 200

    response = client.post("/my/calendar/reset", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "Your calendar address has changed" in page_text(page)
    new = shown_token(page)
    assert new != old

    assert feed(client, old).status_code == 404
    response = feed(client, new)
    assert response.status_code == 200
    assert "BEGIN:VEVENT" in response.text


@pytest.mark.parametrize("member", ["coordinator", "admin"])
def test_the_agency_revokes_a_shoppers_address_from_their_page(client, world, member):
    with client.application.test_request_context():
        old = calendar.feed_token(world.ann)
    bobs = calendar.feed_token(world.bob)
    login(client, getattr(world, member))
    page = client.get(f"/shoppers/{world.ann.id}").text
    assert f'action="/shoppers/{world.ann.id}/calendar/revoke"' in page
    response = client.post(
        f"/shoppers/{world.ann.id}/calendar/revoke", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert "no longer works" in page_text(client.get(response.location).text)

    assert feed(client, old).status_code == 404
    assert feed(client, calendar.feed_token(world.ann)).status_code == 200
    assert feed(client, bobs).status_code == 200  # only Ann's address changed


def test_a_token_must_carry_that_shoppers_current_secret(client, world):
    ann, bob = world.ann, world.bob
    wrong = [
        f"{ann.id}-{bob.calendar_token}",  # someone else's secret
        f"{bob.id}-{ann.calendar_token}",
        f"{ann.id}-{ann.calendar_token.upper()}",
        f"{ann.id}-{ann.calendar_token[:-1]}",
        f"{ann.id}-",
        ann.calendar_token,
        f"0{ann.id}-{ann.calendar_token}",
        f"2147483648-{ann.calendar_token}",  # beyond any id the database can hold
        f"999999999999999999-{ann.calendar_token}",
    ]
    for token in wrong:
        assert feed(client, token).status_code == 404, token
    assert feed(client, f"{ann.id}-{ann.calendar_token}").status_code == 200


def test_the_feed_address_links_and_uids_come_from_the_site_address_not_the_host(
    app, client, world, monkeypatch
):
    # As deployed: no SERVER_NAME, so Flask would take each request's Host header.
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    monkeypatch.setitem(app.config, "BASE_URL", "https://audit.example.com")
    login(client, world.ann.user)
    page = client.get("/my/", headers={"Host": "localhost:8000"}).text
    token = calendar.feed_token(world.ann)
    assert f'value="https://audit.example.com/my/calendar/{token}.ics"' in page
    assert f'href="webcal://audit.example.com/my/calendar/{token}.ics"' in page

    bodies = {
        host: app.test_client().get(f"/my/calendar/{token}.ics", headers={"Host": host}).text
        for host in ("audit.example.com", "localhost:8000", "127.0.0.1:5000")
    }
    assert len(set(bodies.values())) == 1  # the same events whichever host was asked
    body = bodies["localhost:8000"].replace("\r\n ", "")
    (visit_id,) = re.findall(r"UID:visit-(\d+)@audit\.example\.com\r\n", body)
    assert f"URL:https://audit.example.com/my/visits/{visit_id}\r\n" in body
    assert "localhost" not in body and "127.0.0.1" not in body
