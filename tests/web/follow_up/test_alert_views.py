"""The alert pages: a user's own notifications (newest first, unread marked, paged),
opening one (a POST) marks it read and follows its link, "Mark all read", the unread count in
the top bar, and the preferences page offering only the kinds the role receives."""

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from auditapp.clock import utcnow
from auditapp.extensions import db
from auditapp.models import AlertPreference, Notification
from tests.conftest import count_queries, csrf_token, login, page_text
from tests.web.worlds.alerts import build_world


@pytest.fixture
def world(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


def _note(user: Any, title: str, minutes_ago: int = 0, **kw: Any) -> Notification:
    note = Notification(
        user_id=user.id, kind=kw.pop("kind", "below_threshold"), dedupe_key=title,
        title=title, body=kw.pop("body", f"About {title}."), link=kw.pop("link", "/reports/"),
        delivery="digest", created_at=utcnow() - timedelta(minutes=minutes_ago), **kw,
    )  # fmt: skip
    db.session.add(note)
    db.session.flush()
    return note


def test_the_list_shows_only_my_alerts_newest_first_with_unread_marked(client, world):
    _note(world.sm_a, "Older and read", 60, read_at=utcnow())
    _note(world.sm_a, "Newest", 1)
    _note(world.sm_b, "Somebody else's", 2)
    login(client, world.sm_a)
    page = client.get("/notifications")
    assert page.status_code == 200
    text = page_text(page.text)
    assert text.index("Newest") < text.index("Older and read")
    assert "Somebody else's" not in text
    assert text.count("New ") == 1  # the unread marker, once
    assert "1 unread" in text
    unread = page_text(client.get("/notifications?show=unread").text)
    assert "Newest" in unread and "Older and read" not in unread


def test_the_list_is_paged(app, client, world):
    for n in range(app.config["PER_PAGE"] + 2):
        _note(world.sm_a, f"Alert number {n:02d}", 100 - n)
    login(client, world.sm_a)
    first = page_text(client.get("/notifications").text)
    assert "Alert number 26" in first and "Alert number 01" not in first
    second = page_text(client.get("/notifications?page=2").text)
    assert "Alert number 01" in second and "Alert number 00" in second


def test_opening_an_alert_marks_it_read_and_follows_its_link(client, world):
    note = _note(world.sm_a, "Go to the report", link=f"/reports/stores/{world.a.id}?wave=3")
    login(client, world.sm_a)
    response = client.post(f"/notifications/{note.id}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.location == f"/reports/stores/{world.a.id}?wave=3"
    db.session.refresh(note)
    assert note.read_at is not None


def test_the_list_opens_each_alert_with_a_post_form_that_carries_the_token(client, world):
    note = _note(world.sm_a, "Open me")
    login(client, world.sm_a)
    page = client.get("/notifications").text
    form = re.search(
        rf'<form method="post" action="/notifications/{note.id}"[^>]*>(.*?)</form>', page, re.S
    )
    assert form is not None
    assert 'name="csrf_token"' in form.group(1)
    assert "Open me" in form.group(1)


def test_a_get_only_follows_the_link_and_leaves_the_alert_unread(client, world):
    """A link preview, a prefetch or an old bookmark must not change anything."""
    note = _note(world.sm_a, "Peeked at", link="/reports/")
    login(client, world.sm_a)
    response = client.get(f"/notifications/{note.id}")
    assert response.status_code == 302
    assert response.location == "/reports/"
    db.session.refresh(note)
    assert note.read_at is None


def test_marking_an_alert_read_needs_the_csrf_token(client, world):
    note = _note(world.sm_a, "Forged")
    login(client, world.sm_a)
    assert client.post(f"/notifications/{note.id}").status_code == 400
    db.session.refresh(note)
    assert note.read_at is None


def test_an_alert_link_never_leads_off_the_site(client, world):
    note = _note(world.sm_a, "Tampered", link="https://evil.example/")
    login(client, world.sm_a)
    assert client.get(f"/notifications/{note.id}").location == "/notifications"
    opened = client.post(f"/notifications/{note.id}", data={"csrf_token": csrf_token(client)})
    assert opened.location == "/notifications"


def test_someone_elses_alert_is_not_found(client, world):
    note = _note(world.sm_b, "Not yours")
    login(client, world.sm_a)
    assert client.get(f"/notifications/{note.id}").status_code == 404
    token = csrf_token(client)
    assert client.post(f"/notifications/{note.id}", data={"csrf_token": token}).status_code == 404
    db.session.refresh(note)
    assert note.read_at is None


def test_mark_all_read_needs_the_token_and_marks_only_mine(client, world):
    mine = [_note(world.sm_a, "One"), _note(world.sm_a, "Two")]
    theirs = _note(world.sm_b, "Theirs")
    login(client, world.sm_a)
    assert client.post("/notifications/read-all").status_code == 400
    response = client.post("/notifications/read-all", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    for note in [*mine, theirs]:
        db.session.refresh(note)
    assert all(note.read_at is not None for note in mine)
    assert theirs.read_at is None


def test_the_top_bar_counts_my_unread_alerts_in_one_query(app, client, world):
    _note(world.sm_a, "One")
    _note(world.sm_a, "Two")
    _note(world.sm_a, "Read", read_at=utcnow())
    login(client, world.sm_a)
    with count_queries(app) as statements:
        page = client.get("/account/")
    assert 'href="/notifications">Alerts <span class="badge warn"' in page.text
    assert ">2</span>" in page.text
    assert len([s for s in statements if "notification" in s.lower()]) == 1


def test_signed_out_pages_do_not_count_alerts(app, client):
    with count_queries(app) as statements:
        assert client.get("/login").status_code == 200
    assert not [s for s in statements if "notification" in s.lower()]


@pytest.mark.parametrize(
    ("member", "offered", "not_offered"),
    [
        ("sm_a", ["Critical failure", "Appeal decided"], ["New appeal"]),
        ("rm_north", ["Declining three waves in a row", "Appeal decided"], ["New appeal"]),
        ("coordinator", ["New appeal", "Appeal awaiting a decision"], ["Appeal decided"]),
    ],
)
def test_the_settings_offer_the_kinds_the_role_receives(
    client, world, member, offered, not_offered
):
    login(client, getattr(world, member))
    text = page_text(client.get("/account/alerts").text)
    for label in offered:
        assert label in text
    for label in not_offered:
        assert label not in text


def test_roles_without_alerts_are_told_so(client, world):
    login(client, world.shopper.user)
    text = page_text(client.get("/account/alerts").text)
    assert "Your role receives no alerts." in text


def _chosen(user: Any) -> dict[str, str]:
    rows = db.session.execute(
        select(AlertPreference.kind, AlertPreference.delivery).where(
            AlertPreference.user_id == user.id
        )
    )
    return dict(rows.all())


def test_saving_settings_keeps_only_the_choices_that_differ_from_the_default(client, world):
    login(client, world.sm_a)
    token = csrf_token(client)
    response = client.post(
        "/account/alerts",
        data={"csrf_token": token, "critical_failure": "in_app", "below_threshold": "immediate",
              "declining": "digest"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _chosen(world.sm_a) == {"critical_failure": "in_app", "below_threshold": "immediate"}
    page = client.get("/account/alerts").text
    assert 'name="critical_failure" value="in_app" checked' in page
    client.post("/account/alerts", data={"csrf_token": token, "critical_failure": "immediate"})
    assert _chosen(world.sm_a) == {"below_threshold": "immediate"}


def test_an_unknown_choice_is_refused_next_to_its_kind_and_nothing_is_saved(client, world):
    login(client, world.sm_a)
    response = client.post(
        "/account/alerts",
        data={"csrf_token": csrf_token(client), "critical_failure": "in_app",
              "declining": "carrier-pigeon"},
    )  # fmt: skip
    assert response.status_code == 400
    assert 'id="declining-error"' in response.text
    assert "Choose one of the offered options." in response.text
    assert 'name="critical_failure" value="in_app" checked' in response.text  # kept
    assert _chosen(world.sm_a) == {}
