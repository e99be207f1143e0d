"""The corrective action pages (views/actions.py) over the actions world
(tests/web/worlds/actions.py): the list, one action and its steps from a phone, the
photos, and the repeats report; each user only within their scope, and never a
shopper's name."""

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from auditapp import media
from auditapp.extensions import db
from auditapp.models import CorrectiveAction
from auditapp.models.follow_up import (
    ACTION_IN_PROGRESS,
    ACTION_OPEN,
    ACTION_REOPENED,
    ACTION_RESOLVED,
    ACTION_VERIFIED,
)
from auditapp.services.follow_up import actions
from tests.conftest import count_queries, csrf_token, login, page_text
from tests.web import evidence_images
from tests.web.worlds.actions import SHOPPER_NAME, at, only, publish, visit
from tests.web.worlds.actions import w as action_world

w = action_world


@pytest.fixture
def world(w: Any) -> Any:
    """W1 published: A1 failed "clean" (critical) and "rating"; B1 failed "staff"."""
    visit(w, w.waves[0], w.a, comments={"shop": "Sticky floor."}, clean="no", rating=2)
    visit(w, w.waves[0], w.b, staff="rude")
    publish(w.waves[0], at(2))
    w.clean, w.rating, w.staff = only(w.a, "clean"), only(w.a, "rating"), only(w.b, "staff")
    db.session.commit()  # survives a view's rollback (the test's transaction still ends)
    return w


def fresh(action: CorrectiveAction) -> CorrectiveAction:
    found = db.session.get(CorrectiveAction, action.id, populate_existing=True)
    assert found is not None
    return found


def post(client: Any, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


# --- the list ---------------------------------------------------------------------------------


def test_the_store_manager_lists_their_stores_actions(client, world):
    page = login(client, world.sam).get("/actions/")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Was the floor clean?" in text and "Overall impression" in text
    assert "Staff manner" not in text  # Bravo's
    assert "Feb 18, 2026" in text and "Mar 13, 2026" in text  # Shanghai's publication day
    assert "Sam Store" in text
    assert re.search(r"2\s+to do", text)
    assert SHOPPER_NAME not in text


def test_the_list_filters_by_status_store_and_overdue(client, world):
    today = actions.store_today(world.a)
    clean, rating, staff = fresh(world.clean), fresh(world.rating), fresh(world.staff)
    clean.due_on, rating.due_on = today - timedelta(days=1), today + timedelta(days=3)
    staff.due_on = actions.store_today(world.b)  # due today: not overdue yet
    db.session.commit()
    login(client, world.coordinator)

    def shown(query: str) -> set[int]:
        html = client.get("/actions/" + query).text
        return {int(i) for i in re.findall(r'data-action="(\d+)"', html)}

    everything = {world.clean.id, world.rating.id, world.staff.id}
    assert shown("") == everything
    assert shown(f"?store={world.b.id}") == {world.staff.id}
    assert shown("?overdue=1") == {world.clean.id}
    assert "overdue" in page_text(client.get("/actions/").text)
    with world.app.test_request_context():
        actions.start(fresh(world.rating), world.coordinator)
    db.session.commit()
    assert shown("?status=in_progress") == {world.rating.id}
    assert shown("?status=verified") == set()
    assert shown("?status=nonsense") == everything


def test_the_list_needs_the_same_queries_for_more_actions(app, client, world):
    login(client, world.coordinator)
    client.get("/actions/")
    with count_queries(app) as few:
        client.get("/actions/")
    visit(world, world.waves[0], world.s, greeted="no", clean="no", staff="rude", rating=1)
    publish(world.waves[0], at(2))
    db.session.commit()
    with count_queries(app) as more:
        page = client.get("/actions/")
    assert page.text.count("data-action=") == 7
    assert len(more) == len(few)


@pytest.mark.parametrize("who", ["reviewer", "shopper"])
def test_reviewers_and_shoppers_find_no_actions(client, world, who):
    user = world.shopper.user if who == "shopper" else world.reviewer
    login(client, user)
    for url in ("/actions/", f"/actions/{world.clean.id}", "/actions/repeats"):
        assert client.get(url).status_code == 404, url


# --- one action ----------------------------------------------------------------------------


def test_a_store_manager_cannot_open_another_stores_action(client, world):
    login(client, world.bob)
    assert client.get(f"/actions/{world.clean.id}").status_code == 404
    assert post(client, f"/actions/{world.clean.id}/start").status_code == 404
    assert post(client, f"/actions/{world.clean.id}/resolve", note="x").status_code == 404
    assert fresh(world.clean).status == ACTION_OPEN
    assert client.get(f"/actions/{world.staff.id}").status_code == 200


def test_the_action_page_shows_the_finding_and_the_managers_steps(client, world):
    page = login(client, world.sam).get(f"/actions/{world.clean.id}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Was the floor clean?" in text and "Sticky floor." in text
    assert "W1" in text and "Failed (critical)" in text
    assert "Feb 18, 2026" in text and "Critical" in text
    assert 'id="step-start"' in page.text and 'id="step-resolve"' in page.text
    assert 'id="step-check"' not in page.text and 'id="step-reassign"' not in page.text
    assert 'accept="image/*"' in page.text and "multiple" in page.text
    assert 'capture="environment"' in page.text
    assert SHOPPER_NAME not in text and "Zed" not in text


def test_the_store_manager_starts_and_resolves_with_a_photo(client, world):
    login(client, world.sam)
    done = post(client, f"/actions/{world.clean.id}/start")
    assert done.status_code == 302 and fresh(world.clean).status == ACTION_IN_PROGRESS
    photo = (io.BytesIO(evidence_images.png()), "fix.png")
    done = client.post(
        f"/actions/{world.clean.id}/resolve",
        data={"csrf_token": csrf_token(client), "note": "New mop.", "photos": [photo]},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    action = fresh(world.clean)
    assert (action.status, action.resolution_note) == (ACTION_RESOLVED, "New mop.")
    page = client.get(f"/actions/{world.clean.id}").text
    assert "New mop." in page_text(page)
    urls = re.findall(r'<img src="([^"]+)"', page)
    assert len(urls) == 1 and urls[0].endswith("?thumb=1")
    for url in (urls[0], urls[0].split("?")[0]):
        served = client.get(url)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["Cache-Control"].startswith("private")
    login(client, world.bob)
    assert client.get(urls[0]).status_code == 404


def test_a_bad_photo_is_refused_next_to_the_field_keeping_the_note(client, world):
    login(client, world.sam)
    refused = client.post(
        f"/actions/{world.clean.id}/resolve",
        data={
            "csrf_token": csrf_token(client),
            "note": "Mopped <twice>",
            "photos": [(io.BytesIO(b"not a picture"), "fix.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert 'id="resolve-photos-error"' in refused.text
    assert "not a photo we can read" in refused.text
    assert "Mopped &lt;twice&gt;</textarea>" in refused.text
    assert fresh(world.clean).status == ACTION_OPEN


def test_five_photos_are_all_checked_before_any_is_decoded(client, world, monkeypatch):
    """The fifth is a picture too large to decode: the four good ones before it are
    not decoded for nothing, and the message names the photo at fault."""
    decoded = []
    process = media.process_image
    monkeypatch.setattr(media, "process_image", lambda data: decoded.append(data) or process(data))
    good = [(io.BytesIO(evidence_images.png()), f"fix{n}.png") for n in range(4)]
    bomb = (io.BytesIO(evidence_images.png_header(7999, 7999)), "huge.png")
    login(client, world.sam)
    refused = client.post(
        f"/actions/{world.clean.id}/resolve",
        data={"csrf_token": csrf_token(client), "note": "New mop.", "photos": [*good, bomb]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 413
    assert decoded == []
    assert "Photo 5: This photo has too many pixels" in page_text(refused.text)
    assert "New mop.</textarea>" in refused.text
    assert fresh(world.clean).status == ACTION_OPEN


def test_a_resolution_without_a_note_is_refused_next_to_the_note(client, world):
    login(client, world.sam)
    refused = post(client, f"/actions/{world.clean.id}/resolve", note="  ")
    assert refused.status_code == 400
    assert 'id="resolve-note-error"' in refused.text
    assert fresh(world.clean).status == ACTION_OPEN


def test_the_regional_manager_verifies_or_reopens_a_resolved_action(client, world):
    with world.app.test_request_context():
        actions.resolve(fresh(world.clean), world.sam, "Mopped.")
        actions.resolve(fresh(world.rating), world.sam, "Team briefed.")
    db.session.commit()
    login(client, world.sam)
    assert post(client, f"/actions/{world.clean.id}/verify").status_code == 404
    login(client, world.rm)
    page = client.get(f"/actions/{world.clean.id}").text
    assert 'id="verify-form"' in page and 'id="reopen-form"' in page
    assert post(client, f"/actions/{world.clean.id}/verify").status_code == 302
    assert fresh(world.clean).status == ACTION_VERIFIED
    refused = post(client, f"/actions/{world.rating.id}/reopen", note="")
    assert refused.status_code == 400 and 'id="reopen-note-error"' in refused.text
    assert post(client, f"/actions/{world.rating.id}/reopen", note="Still slow.").status_code == 302
    assert fresh(world.rating).status == ACTION_REOPENED
    again = post(client, f"/actions/{world.clean.id}/verify")
    assert again.status_code == 409 and 'id="step-error"' in again.text


def test_the_coordinator_hands_the_action_to_another_store_manager(client, world):
    login(client, world.coordinator)
    page = client.get(f"/actions/{world.clean.id}").text
    assert "Sid Store" in page and "Bob Store" not in page
    assert post(client, f"/actions/{world.clean.id}/owner", owner=world.sid.id).status_code == 302
    assert fresh(world.clean).owner_id == world.sid.id
    refused = post(client, f"/actions/{world.clean.id}/owner", owner=world.bob.id)
    assert refused.status_code == 400 and 'id="reassign-owner-error"' in refused.text


# --- did the fix stick? ---------------------------------------------------------------------------


def test_the_repeats_report_lists_the_waves_of_each_failure(client, world):
    visit(world, world.waves[1], world.a, rating=1)
    visit(world, world.waves[1], world.b, staff="rude")
    publish(world.waves[1], at(3))
    visit(world, world.waves[2], world.a)
    publish(world.waves[2], at(4))
    db.session.commit()
    page = login(client, world.coordinator).get(f"/actions/repeats?client={world.client.id}")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr data-store="(\w+)" data-question="(\w+)">.*?class="ac-waves">'
        r'<span class="cell-label">[^<]*</span>([^<]*)</td>',
        page.text,
        re.S,
    )
    assert rows[:2] == [("A1", "rating", "W1, W2"), ("B1", "staff", "W1, W2")]
    assert ("A1", "clean", "W1") in rows
    mine = login(client, world.sam).get("/actions/repeats")
    assert mine.status_code == 200
    assert 'data-store="A1"' in mine.text and 'data-store="B1"' not in mine.text
    only_repeats = client.get("/actions/repeats?repeats=1").text
    assert 'data-question="rating"' in only_repeats
    assert 'data-question="clean"' not in only_repeats
    assert SHOPPER_NAME not in page_text(page.text)


def test_the_repeats_report_keeps_to_the_region_picked(client, world):
    login(client, world.coordinator)
    south = client.get(f"/actions/repeats?region={world.south.id}")
    assert south.status_code == 200 and 'data-store="A1"' not in south.text
    login(client, world.rm_south)
    assert client.get(f"/actions/repeats?region={world.north.id}").status_code == 404
    login(client, world.other_coordinator)
    assert client.get(f"/actions/repeats?client={world.client.id}").status_code == 404


def test_unpublished_actions_stay_hidden_from_the_clients_managers(client, world):
    world.waves[0].published_at = None
    db.session.commit()
    login(client, world.sam)
    assert client.get(f"/actions/{world.clean.id}").status_code == 404
    assert "data-action=" not in client.get("/actions/").text
    login(client, world.coordinator)
    assert client.get(f"/actions/{world.clean.id}").status_code == 200


def test_every_action_of_the_world_is_reachable_by_the_coordinator(client, world):
    ids = set(db.session.scalars(select(CorrectiveAction.id)))
    login(client, world.coordinator)
    for action_id in ids:
        assert client.get(f"/actions/{action_id}").status_code == 200


def test_photos_too_large_together_are_refused_next_to_the_photo_field(
    app, client, world, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    login(client, world.sam)
    token = csrf_token(client)
    refused = client.post(
        f"/actions/{world.clean.id}/resolve",
        data={"csrf_token": token, "note": "Fixed", "photos": [(io.BytesIO(b"x" * 4096), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 413
    assert 'id="resolve-photos-error"' in refused.text and "fewer" in refused.text
    login(client, world.bob)
    elsewhere = client.post(
        f"/actions/{world.clean.id}/resolve",
        data={"csrf_token": token, "photos": [(io.BytesIO(b"x" * 4096), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert elsewhere.status_code == 413 and "Was the floor clean?" not in elsewhere.text
