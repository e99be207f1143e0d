"""Acceptance: on a phone, the shopper's visit form survives a dropped signal.

Fill the form (a conditional question appears), attach a photo, lose the network,
keep answering, reload (the service worker serves the page; IndexedDB restores the
answers), come back online, submit: the server holds exactly what was typed, the
photo's bytes, and one submission. And a submit tapped twice while offline is queued,
sent once when the network returns, and a replay of it changes nothing.

The module starts its own server (like test_shopboard.py) so that it knows the
SQLite file: after the browser is done, the stored rows are read with sqlite3 — no
app objects. Seed: seed.py plus seed_visit_form.py (a shopper, two accepted visits).
Screenshots go to test-artifacts/ (git-ignored)."""

import hashlib
import io
import json
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, SEED, _page, serve

pytestmark = pytest.mark.e2e

SHOPPER = "shopper.offline@demo.auditapp.cn"
HERE = Path(__file__).parent
NOTE = "A lanyard, no name 无名牌"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A fresh app with the visit-form seed, served by a subprocess; and its database."""
    seed_form = [sys.executable, str(HERE / "seed_visit_form.py")]
    with serve(tmp_path_factory.mktemp("offline-live"), [SEED, seed_form]) as live:
        yield live


@pytest.fixture
def phone(browser: Any, server: SimpleNamespace) -> Iterator[Any]:
    """The same phone as the shared ``phone_page`` (390×844, touch), on this server."""
    yield from _page(
        browser, server.url,
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2,
    )  # fmt: skip


# --- helpers ------------------------------------------------------------------------------


def _rows(server: SimpleNamespace, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database) as connection:
        return connection.execute(sql, params).fetchall()


def _visits(server: SimpleNamespace) -> list[int]:
    return [
        row[0]
        for row in _rows(
            server,
            "SELECT visit.id FROM visit JOIN store ON store.id = visit.store_id "
            "WHERE store.code LIKE 'JM-OFF-%' ORDER BY store.code",
        )
    ]


def _photo(colour: tuple[int, int, int]) -> bytes:
    """A small real JPEG, different for each colour."""
    image = Image.new("RGB", (320, 240), colour)
    for x in range(0, 320, 16):
        image.putpixel((x, x % 240), (255 - colour[0], 255, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(SHOPPER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "sign-in failed"


def _open_form(page: Any, visit_id: int) -> None:
    page.goto(f"/my/visits/{visit_id}/form")
    expect(page.locator("#visit-form[data-ready=true]")).to_have_count(1)


def _offline_ready(page: Any) -> None:
    """The service worker controls the page and has kept it (for the offline reload),
    with every script, stylesheet and module the page loads. (Polled in the page:
    wait_for_function takes the promise of an async predicate for a true value.)"""
    missing = page.evaluate(
        """async () => {
            const kept = async () => !!navigator.serviceWorker.controller
                && !!(await caches.match(location.pathname));
            for (let i = 0; i < 200 && !(await kept()); i++) {
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            if (!(await kept())) return ["the page"];
            const assets = document.querySelectorAll(
                "script[src], link[rel=stylesheet], link[rel=modulepreload]");
            const urls = [...assets].map((el) => el.src || el.href);
            const found = await Promise.all(urls.map((url) => caches.match(url)));
            return urls.filter((url, i) => !found[i]);
        }"""
    )
    assert missing == [], f"not kept for offline use: {missing}"


def _question(page: Any, key: str) -> Any:
    return page.locator(f"[data-question-key={key}]")


def _photos(page: Any, status: str) -> Any:
    """The entrance photo's entries in the list the script shows, by upload status."""
    return _question(page, "entrance_photo").locator(f".vf-photo[data-status={status}]")


def _banner(page: Any) -> Any:
    return page.locator("#sync-banner")


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _go_to_section(page: Any, title: str) -> None:
    page.locator(".vf-section:not([hidden])").get_by_role("link", name=re.compile("Next")).tap()
    expect(page.locator(".vf-section:not([hidden]) h2")).to_have_text(title)


# --- the tests ----------------------------------------------------------------------------


def test_answers_and_photo_survive_offline_and_reload_and_are_submitted_once(
    phone: Any, server: SimpleNamespace, artifacts: Path
) -> None:
    page, context = phone, phone.context
    visit_id = _visits(server)[0]
    _sign_in(page)
    _open_form(page, visit_id)
    _offline_ready(page)

    # Section 1: one section at a time, with progress; the condition shows its question.
    expect(page.locator(".vf-section:not([hidden]) h2")).to_have_text("Arrival")
    expect(page.locator(".vf-section[hidden]")).to_have_count(1)
    expect(_question(page, "greeting_s")).to_be_hidden()
    _question(page, "greeted").get_by_label("Yes").tap()
    expect(_question(page, "greeting_s")).to_be_visible()
    expect(page.locator(".vf-meter")).to_contain_text("1 of 6 answered")

    photo = _photo((30, 120, 200))
    _question(page, "entrance_photo").locator("input[type=file]").set_input_files(
        {"name": "entrance.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    expect(_photos(page, "done")).to_have_count(1)
    expect(_banner(page)).to_have_text("All changes saved")
    page.screenshot(path=str(artifacts / "visit-form-online-phone.png"), full_page=True)

    # The signal drops; the shopper keeps going, the conditional question included.
    context.set_offline(True)
    expect(_banner(page)).to_have_attribute("data-state", "offline")
    stopwatch = _question(page, "greeting_s").locator("[data-stopwatch-for]")
    expect(stopwatch).to_be_visible()
    stopwatch.tap()
    expect(stopwatch).to_have_attribute("aria-pressed", "true")
    stopwatch.tap()
    expect(_question(page, "greeting_s").locator("input")).to_have_value(re.compile(r"^\d+$"))
    _question(page, "greeting_s").get_by_label(re.compile("Seconds")).fill("42")
    _go_to_section(page, "Service")
    _question(page, "badge").get_by_label("No").tap()
    expect(_question(page, "badge_note")).to_be_visible()
    _question(page, "badge_note").get_by_label(re.compile("instead")).fill(NOTE)
    _question(page, "offers").get_by_label("Credit card").tap()
    _question(page, "offers").get_by_label("Fund").tap()
    _question(page, "queue").get_by_label(re.compile("queue")).fill("4")
    page.get_by_label("Comments on this section").locator("visible=true").fill("Busy at noon")
    page.get_by_label("Overall comments").fill("Friendly, but slow.")
    expect(_banner(page)).to_have_text(re.compile(r"^Offline — \d+ changes kept on this phone"))
    unsynced = int(_banner(page).get_attribute("data-unsynced") or 0)
    assert unsynced == 7, page.evaluate(
        """(visit) => new Promise((resolve) => {
            const open = indexedDB.open("auditapp");
            open.onsuccess = () => {
              const r = open.result.transaction("drafts").objectStore("drafts").get(visit);
              r.onsuccess = () => resolve(JSON.stringify(r.result));
            };
        })""",
        str(visit_id),
    )
    page.screenshot(path=str(artifacts / "visit-form-offline-phone.png"), full_page=True)

    # A reload with no network: the worker serves the page, IndexedDB the answers.
    page.reload()
    expect(page.locator("#visit-form[data-ready=true]")).to_have_count(1)
    expect(_banner(page)).to_have_text(re.compile(r"^Offline — 7 changes kept on this phone"))
    expect(page.locator(".vf-section:not([hidden]) h2")).to_have_text("Service")
    expect(_question(page, "badge_note").locator("textarea")).to_have_value(NOTE)
    expect(_question(page, "offers").get_by_label("Credit card")).to_be_checked()
    expect(_question(page, "offers").get_by_label("Loan")).not_to_be_checked()
    expect(_question(page, "queue").locator("input")).to_have_value("4")
    expect(page.get_by_label("Overall comments")).to_have_value("Friendly, but slow.")
    expect(_question(page, "greeting_s").locator("input")).to_have_value("42")
    expect(_photos(page, "done")).to_have_count(1)
    page.screenshot(path=str(artifacts / "visit-form-offline-reloaded-phone.png"), full_page=True)

    # Back online: the draft goes to the server by itself.
    context.set_offline(False)
    expect(_banner(page)).to_have_text("All changes saved", timeout=20_000)
    [(draft_json,)] = _rows(server, "SELECT data FROM visit_draft WHERE visit_id = ?", visit_id)
    draft = json.loads(draft_json)
    assert draft["q_badge_note"] == NOTE
    assert draft["q_offers"] == ["card", "fund"]

    with page.expect_navigation():
        page.get_by_role("button", name="Submit").tap()
    assert page.url.endswith("/my/")

    # On the server: exactly what was entered, the photo's bytes, one submission.
    [(evidence_id, sha256, key)] = _rows(
        server, "SELECT id, sha256, question_key FROM evidence WHERE visit_id = ?", visit_id
    )
    assert key == "entrance_photo"
    assert sha256 == hashlib.sha256(photo).hexdigest()
    submissions = _rows(
        server, "SELECT answers, comments FROM visit_submission WHERE visit_id = ?", visit_id
    )
    assert len(submissions) == 1
    answers, comments = (json.loads(text) for text in submissions[0])
    assert answers == {
        "greeted": "yes",
        "greeting_s": 42,
        "entrance_photo": [str(evidence_id)],
        "badge": "no",
        "badge_note": NOTE,
        "offers": ["card", "fund"],
        "queue": 4,
    }
    assert comments == {"service": "Busy at noon", "": "Friendly, but slow."}
    assert _rows(server, "SELECT status FROM visit WHERE id = ?", visit_id) == [("submitted",)]
    # What the phone kept for the visit is gone once the server has it.
    kept = page.evaluate(
        """(visit) => new Promise((resolve) => {
            const open = indexedDB.open("auditapp");
            open.onsuccess = () => {
              const tx = open.result.transaction(["drafts", "outbox"]);
              const draft = tx.objectStore("drafts").get(visit);
              const box = tx.objectStore("outbox").get(visit);
              tx.oncomplete = () => resolve([draft.result || null, box.result || null]);
            };
        })""",
        str(visit_id),
    )
    assert kept == [None, None]
    assert page.js_problems == []


def test_submit_tapped_twice_offline_is_queued_and_sent_once(
    phone: Any, server: SimpleNamespace, artifacts: Path
) -> None:
    page, context = phone, phone.context
    visit_id = _visits(server)[1]
    _sign_in(page)
    _open_form(page, visit_id)
    _offline_ready(page)
    assert _fits_the_screen(page)

    context.set_offline(True)
    _question(page, "greeted").get_by_label("No").tap()
    expect(_question(page, "greeting_s")).to_be_hidden()
    photo = _photo((200, 40, 40))
    _question(page, "entrance_photo").locator("input[type=file]").set_input_files(
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    pending = _photos(page, "pending")
    expect(pending).to_have_count(1)
    expect(pending.locator("img")).to_be_visible()  # the preview, from the phone's copy
    assert _fits_the_screen(page)

    submit = page.get_by_role("button", name="Submit")
    submit.dblclick()  # a double tap
    expect(_banner(page)).to_have_attribute("data-state", "queued")
    expect(_banner(page)).to_contain_text("Submission queued — will send when you are online")
    page.screenshot(path=str(artifacts / "visit-form-queued-phone.png"), full_page=True)

    page.reload()  # still offline: the queued submission and the photo wait on the phone
    expect(page.locator("#visit-form[data-ready=true]")).to_have_count(1)
    expect(_banner(page)).to_have_attribute("data-state", "queued")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    assert _rows(server, "SELECT count(*) FROM visit_submission WHERE visit_id = ?", visit_id) == [
        (0,)
    ]

    with page.expect_navigation(timeout=20_000):
        context.set_offline(False)  # the photo goes up first, then the submission
    assert page.url.endswith("/my/")

    [(submission_id, answers_json)] = _rows(
        server,
        "SELECT client_submission_id, answers FROM visit_submission WHERE visit_id = ?",
        visit_id,
    )
    [(evidence_id, sha256)] = _rows(
        server, "SELECT id, sha256 FROM evidence WHERE visit_id = ?", visit_id
    )
    assert sha256 == hashlib.sha256(photo).hexdigest()
    assert json.loads(answers_json) == {"greeted": "no", "entrance_photo": [str(evidence_id)]}

    # A retry of the same submission (a lost answer, say) gets the same result.
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    replay = page.request.post(
        f"/my/visits/{visit_id}/submit",
        multipart={"submission_id": submission_id, "action": "submit", "q_greeted": "yes"},
        headers={"Accept": "application/json", "X-CSRFToken": token or ""},
    )
    assert replay.status == 200
    assert replay.json()["submission_id"] == submission_id
    assert _rows(server, "SELECT count(*) FROM visit_submission WHERE visit_id = ?", visit_id) == [
        (1,)
    ]
    assert page.js_problems == []
