"""Acceptance: a store manager on a phone opens a finding of a published visit that
lost points and files an appeal with a photo; the coordinator, at a desk, upholds it;
the store's score changes on the store manager's page and on the store dashboard.

Runs on a server of its own loaded with the full demo, whose previous wave is
published. The test reads the server's SQLite file (never the app's objects) only to
learn which finding to follow: a plain yes/no question of the demo store manager's
store answered "no" and not yet appealed."""

import io
import re
import sqlite3
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import COORDINATOR, DEMO, DEMO_PASSWORD, PHONE, _page, serve

pytestmark = pytest.mark.e2e

STORE_MANAGER = "store@demo.auditapp.cn"
REASON = "Our display was in place that morning; the photo from the opening check shows it."
NOTE = "The store's footage confirms it; answer corrected."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    with serve(tmp_path_factory.mktemp("appeal-live"), [DEMO]) as server:
        yield server


@pytest.fixture
def desk(browser: Any, demo: SimpleNamespace) -> Iterator[Any]:
    yield from _page(browser, demo.url, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any, demo: SimpleNamespace) -> Iterator[Any]:
    yield from _page(browser, demo.url, **PHONE)


def _query(demo: SimpleNamespace, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(demo.database) as connection:
        return connection.execute(sql, args).fetchall()


def _open_finding(demo: SimpleNamespace) -> tuple[int, int, int, str]:
    """(store id, wave id, visit id, question key) of an appealable "no": one that
    cost the store points, as the visit's stored question result shows, on a visit
    no critical failure holds at 0 (so upholding it must move the store's score)."""
    rows = _query(
        demo,
        """SELECT v.store_id, v.wave_id, v.id, q.key FROM visit v
           JOIN user_store us ON us.store_id = v.store_id
           JOIN user u ON u.id = us.user_id AND u.email = ?
           JOIN wave w ON w.id = v.wave_id AND w.published_at IS NOT NULL
           JOIN visit_answer a ON a.visit_id = v.id
           JOIN checklist_question q ON q.id = a.question_id AND q.type = 'yes_no'
           JOIN visit_question_result r ON r.visit_id = v.id AND r.question_id = q.id
           WHERE v.status = 'approved' AND a.value = '"no"'
             AND r.applicable AND r.earned < r.possible
             AND NOT EXISTS (SELECT 1 FROM visit_question_result c
                             WHERE c.visit_id = v.id AND c.critical_failed)
             AND NOT EXISTS (SELECT 1 FROM checklist_option o WHERE o.question_id = q.id)
             AND NOT EXISTS (SELECT 1 FROM appeal p
                             WHERE p.visit_id = v.id AND p.question_key = q.key)
           ORDER BY v.id, q.id""",
        STORE_MANAGER,
    )
    assert rows, "the demo store has a finding left to appeal"
    store_id, wave_id, visit_id, key = rows[0]
    return int(store_id), int(wave_id), int(visit_id), str(key)


def _photo() -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(buffer, "JPEG")
    return {"name": "door-camera.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def _score(page: Any) -> str:
    return str(page.locator("#store-score .rp-figure").inner_text()).strip()


def test_store_manager_appeals_on_a_phone_and_the_upheld_appeal_moves_the_score(
    demo: SimpleNamespace, phone: Any, desk: Any, artifacts: Any
) -> None:
    store_id, wave_id, visit_id, key = _open_finding(demo)
    _sign_in(phone, STORE_MANAGER)
    phone.goto("/my-store/")
    expect(phone).to_have_url(re.compile(rf"/my-store/{store_id}$"))
    phone.goto(f"/my-store/{store_id}?wave={wave_id}")
    before = _score(phone)

    phone.locator(f'#my-visits a[href="/my-store/visits/{visit_id}"]').click()
    finding = phone.locator(f"#finding-{key}")
    expect(finding).to_be_visible()
    finding.get_by_role("link", name="Appeal this finding").click()
    phone.get_by_label("Why is this finding wrong?").fill(REASON)
    phone.locator("#photos").set_input_files([_photo()])
    phone.get_by_role("button", name="Send the appeal").click()
    phone.wait_for_load_state()
    expect(phone.locator("body")).to_contain_text(REASON)
    assert phone.locator("img[src*='/photos/']").count() >= 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifacts / "appeal-filed-phone.png"), full_page=True)
    appeal_url = phone.url
    assert re.search(r"/appeals/\d+$", appeal_url)

    _sign_in(desk, COORDINATOR)
    desk.goto("/appeals/")
    desk.locator(f'a[href="{appeal_url.split(demo.url, 1)[1]}"]').first.click()
    expect(desk.locator("body")).to_contain_text(REASON)
    desk.get_by_role("radio", name="Yes").check()
    desk.get_by_label("Note to the store").fill(NOTE)
    desk.get_by_role("button", name="Uphold").click()
    desk.wait_for_load_state()
    expect(desk.locator("body")).to_contain_text(NOTE)

    desk.goto(f"/reports/stores/{store_id}?wave={wave_id}")
    dashboard = _score(desk)
    phone.goto(f"/my-store/{store_id}?wave={wave_id}")
    after = _score(phone)
    assert after != before, "the upheld appeal changed the store's score"
    assert dashboard == after
    assert float(after) > float(before)
    phone.goto(f"/my-store/visits/{visit_id}")
    expect(phone.locator("#original-score")).to_be_visible()
    assert not phone.js_problems and not desk.js_problems
