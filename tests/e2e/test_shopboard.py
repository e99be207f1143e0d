"""Acceptance: on a phone, the demo shopper opens Find visits, claims the nearest open
visit and finds it in My visits.

This needs the full demo (shoppers, waves, open visits), not the small seed of the
shared live server, so the module starts its own server the same way, loaded with
``flask demo``, on a machine whose clock says it is 23:45 on New Year's Eve in the
stores' time zone (faketime), so the demo and the board hold on the year's last
evening. Screenshots go to test-artifacts/ (git-ignored)."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO, DEMO_PASSWORD, _page, serve

pytestmark = pytest.mark.e2e

SHOPPER = "shopper@demo.auditapp.cn"
NEW_YEARS_EVE_LATE = "@2027-12-31 15:45:00"  # UTC; 23:45 in Shanghai


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh app loaded with the full demo (waves, shoppers)."""
    home = tmp_path_factory.mktemp("demo-live")
    with serve(home, [DEMO], fake_time=NEW_YEARS_EVE_LATE) as server:
        yield server.url


@pytest.fixture
def phone(browser: Any, demo_server: str) -> Iterator[Any]:
    """The same phone as the shared ``phone_page`` (390×844, touch), on the demo server."""
    yield from _page(
        browser, demo_server,
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2,
    )  # fmt: skip


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_shopper_claims_a_visit_on_the_shopboard_and_sees_it_in_my_visits(
    phone: Any, artifacts: Path
) -> None:
    page = phone
    page.goto("/login")
    page.get_by_label("E-mail").fill(SHOPPER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "sign-in failed"

    page.get_by_text("Menu").click()  # the phone menu, a <details>: no script needed
    page.locator("details.menu").get_by_role("link", name="Find visits").click()
    expect(page.get_by_role("heading", name="Find visits", level=1)).to_be_visible()
    cards = page.locator("article.mv-card")
    expect(cards.first).to_be_visible()
    first = cards.first
    store = first.get_by_role("heading", level=2).inner_text()
    expect(first).to_contain_text(re.compile(r"\d+\.\d km"))
    claim = first.get_by_role("button", name="Claim this visit")
    box = claim.bounding_box()
    assert box is not None and box["height"] >= 44, "a thumb-sized button"
    assert _fits_the_screen(page)
    page.screenshot(path=str(artifacts / "shopboard-phone.png"), full_page=True)

    with page.expect_navigation():
        claim.tap()
    assert page.url.endswith("/my/")
    expect(page.get_by_role("status")).to_contain_text("The visit is yours")
    mine = page.locator("article.mv-card").filter(has_text=store)
    expect(mine.first).to_be_visible()
    expect(mine.first).to_contain_text("Accepted")
    assert _fits_the_screen(page)
    page.screenshot(path=str(artifacts / "my-visits-after-claim-phone.png"), full_page=True)
    assert page.js_problems == []

    # The claimed visit has left the board, and with it the store's other visits of
    # the wave (a shopper visits a store once per wave).
    page.goto("/my/find")
    expect(page.locator("article.mv-card h2", has_text=store)).to_have_count(0)
