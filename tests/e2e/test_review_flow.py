"""Acceptance: a reviewer opens the queue, inspects a flagged visit and returns it;
its shopper reads the note on their phone, fixes an answer and sends it again; the
reviewer approves it and the shopper is owed the visit's fee.

Runs on a server of its own loaded with the full demo, whose running wave has
submitted visits waiting in the queue, some with integrity flags. The test reads the
server's SQLite file (never the app's objects) only to learn which flagged visit to
follow and whose phone to pick up. The server's clock says it is noon on 29 February
(faketime), a day that exists one year in four."""

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO, DEMO_PASSWORD, PHONE, _page, serve

pytestmark = pytest.mark.e2e

REVIEWER = "reviewer@demo.auditapp.cn"
LEAP_DAY_NOON = "@2028-02-29 04:00:00"  # UTC; noon in Shanghai
NOTE = "Please correct the greeting answer: the photo shows nobody at the door."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    home = tmp_path_factory.mktemp("review-live")
    with serve(home, [DEMO], fake_time=LEAP_DAY_NOON) as server:
        yield server


def _query(demo: SimpleNamespace, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(demo.database) as connection:
        return connection.execute(sql, args).fetchall()


def _flagged_visit(demo: SimpleNamespace) -> tuple[int, str, str]:
    """A submitted retail visit (its form asks about the greeting) with an integrity
    flag: its id, its shopper's e-mail and the flag's code."""
    rows = _query(
        demo,
        """SELECT v.id, u.email, f.code FROM visit v
           JOIN visit_flag f ON f.visit_id = v.id
           JOIN shopper_profile p ON p.id = v.shopper_id JOIN user u ON u.id = p.user_id
           JOIN checklist_question q
             ON q.version_id = v.checklist_version_id AND q.key = 'greet_smile'
           WHERE v.status = 'submitted' ORDER BY v.id""",
    )
    assert rows, "the demo queue has flagged retail visits"
    return int(rows[0][0]), str(rows[0][1]), str(rows[0][2])


def _greeting(demo: SimpleNamespace, visit_id: int) -> str:
    """The visit's stored answer to "greeted with a smile?"."""
    rows = _query(
        demo,
        """SELECT a.value FROM visit_answer a
           JOIN checklist_question q ON q.id = a.question_id AND q.key = 'greet_smile'
           WHERE a.visit_id = ?""",
        visit_id,
    )
    return str(json.loads(rows[0][0]))


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "sign-in failed"


@pytest.fixture
def desk(browser: Any, demo: SimpleNamespace) -> Iterator[Any]:
    yield from _page(browser, demo.url, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any, demo: SimpleNamespace) -> Iterator[Any]:
    yield from _page(browser, demo.url, **PHONE)


def test_reviewer_returns_a_flagged_visit_shopper_resubmits_reviewer_approves(
    desk: Any, phone: Any, demo: SimpleNamespace, artifacts: Path
) -> None:
    visit_id, shopper_email, code = _flagged_visit(demo)

    # The reviewer finds the visit among the flagged ones in the queue.
    _sign_in(desk, REVIEWER)
    desk.get_by_role("link", name="Review", exact=True).first.click()
    desk.get_by_label("Integrity flags").select_option("flagged")
    desk.get_by_role("button", name="Filter").click()
    row = desk.locator("tr", has=desk.get_by_text(f"#{visit_id}", exact=False))
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    expect(desk).to_have_url(re.compile(rf"/review/visits/{visit_id}$"))
    expect(desk.locator(f'#flags li[data-flag="{code}"]')).to_be_visible()
    desk.screenshot(path=str(artifacts / "review-flagged-visit.png"), full_page=True)

    # ... and returns it with a note.
    desk.locator("#return-form").get_by_label("What should the shopper change?").fill(NOTE)
    desk.get_by_role("button", name="Return to the shopper").click()
    expect(desk.get_by_role("status")).to_contain_text(f"#{visit_id} returned to the shopper")
    assert not desk.js_problems, desk.js_problems

    # The shopper sees the returned visit and the note on their phone.
    _sign_in(phone, shopper_email)
    phone.goto("/my/")
    card = phone.locator("article", has=phone.get_by_text("Returned for changes"))
    expect(card.first).to_be_visible()
    phone.goto(f"/my/visits/{visit_id}")
    expect(phone.get_by_text(NOTE)).to_be_visible()
    phone.get_by_role("link", name="Open the form").click()
    expect(phone.locator(".vf-returned")).to_contain_text(NOTE)
    before = _greeting(demo, visit_id)
    after = "no" if before == "yes" else "yes"
    shown = phone.locator(".vf-section:not([hidden])")
    expect(shown).to_have_count(1)  # the form's script shows one section at a time
    shown.get_by_role("link", name=re.compile("Next")).tap()
    expect(phone.locator(".vf-section:not([hidden]) h2")).to_have_text("Greeting")
    greeting = phone.locator('[data-question-key="greet_smile"]')
    greeting.get_by_label(after.capitalize()).tap()
    expect(greeting.get_by_label(after.capitalize())).to_be_checked()
    phone.get_by_role("button", name="Submit").click()
    expect(phone).to_have_url(re.compile(r"/my/?$"), timeout=20_000)
    phone.screenshot(path=str(artifacts / "review-resubmitted-phone.png"), full_page=True)
    assert not phone.js_problems, phone.js_problems

    # Back in the queue, the reviewer sees the second submission and approves it.
    desk.goto(f"/review/visits/{visit_id}")
    expect(desk.locator("#submissions-title")).to_contain_text("2 submissions")
    desk.get_by_role("button", name="Approve").click()
    expect(desk.get_by_text("Approved").first).to_be_visible()

    status = _query(demo, "SELECT status FROM visit WHERE id = ?", visit_id)[0][0]
    assert (status, _greeting(demo, visit_id)) == ("approved", after)
    fee = _query(demo, "SELECT fee FROM pay_line WHERE visit_id = ?", visit_id)
    assert fee and fee[0][0] > 0
