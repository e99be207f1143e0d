"""Layout guard: every role's main pages on a 360 px phone in Chinese fit the screen
(no horizontal scroll) and their primary controls are at least 44×44 px; the review
pages (the queue and waiting visits, flagged ones among them) also fit a 1280 px desk
in English, where the review screen lays its cards side by side.

Chinese wraps differently from English, and a 360 px screen is the narrowest phone the
shoppers use, so this is where layouts break first. The module starts its own server
with the full demo (every role, waves, open visits, submitted visits waiting for review,
some of them flagged), as test_shopboard.py does.
Full-page screenshots go to test-artifacts/layout/ (git-ignored)."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO, DEMO_PASSWORD, _page, serve

pytestmark = pytest.mark.e2e

TAP = 44  # px, the smallest thumb target
# What a thumb must be able to hit. Prose links inside a sentence are exempt (WCAG 2.5.8);
# lone links that act as controls are not: back links, tabs, links in list rows, the map.
PRIMARY = ", ".join([
    "button", ".button", "select", "textarea", "summary", ".brand",
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])",
    "label.check", ".back a", ".tap-link a", ".wv-tabs a", ".wv-regions a", ".list td a",
    ".list th a", ".tree a", ".pager a", ".menu li a", "a.mv-map", ".mv-card h3 a", ".vf-nav a",
])  # fmt: skip
MEASURE = """([selector, tap]) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.closest('[hidden], .sr-only')) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (r.width >= tap - 0.5 && r.height >= tap - 0.5) continue;
    const text = (el.innerText || el.value || '').trim().slice(0, 30);
    small.push(`${el.tagName.toLowerCase()} "${text}" ${r.width | 0}×${r.height | 0}`);
  }
  // Content sticking out of the screen, even where nothing scrolls (clipped, unreachable).
  const beyond = [...document.querySelectorAll('main *, header *')]
    .filter((el) => el.getBoundingClientRect().right > innerWidth + 1 && !el.closest('[hidden]'))
    .map((el) => `${el.tagName.toLowerCase()} "${(el.innerText || '').trim().slice(0, 30)}"`);
  return {scroll: document.documentElement.scrollWidth, width: innerWidth, small, beyond};
}"""

# The review queue, its oldest waiting visit, its oldest flagged one, and visits whose
# flags list findings with links (the demo's running wave has submitted visits, some
# done carelessly on purpose: a photo used twice, a comment copied; demo/visits.py).
REVIEW_PAGES = [
    "/review/",
    "first:/review/|#queue td a",
    "first:/review/?flags=flagged|#queue td a",
    "first:/review/?flags=duplicate_photo|#queue td a",
    "first:/review/?flags=copied_comment|#queue td a",
]
# Per role: the pages a user of that role reaches from the menu and the first detail
# link of each list ("first:<list path>|<selector>" follows that link).
PAGES = {
    "admin": ["/", "/clients/", "first:/clients/|.list td a", "/users/", "/users/new",
              "/users/outbox", "/account/"],
    "coordinator": ["/", "/stores/", "first:/stores/|.list td a", "/shoppers/",
                    "first:/shoppers/|.list td a", "/shoppers/import", "/checklists/",
                    "first:/checklists/|.list td a", "/checklists/versions/1",
                    "/checklists/versions/1/preview", "/waves/", "/waves/new",
                    "first:/waves/|.list td a"],
    "reviewer": ["/", "/stores/", "first:/stores/|.list td a", "/account/", *REVIEW_PAGES],
    "regional": ["/", "/stores/", "first:/stores/|.list td a", "/reports/",
                 "first:/reports/|#ranking td a", "/reports/questions"],
    "store": ["/", "/stores/", "first:/stores/|.list td a", "/reports/"],
    "shopper": ["/", "/my/", "/my/find", "/account/", "/account/password"],
}  # fmt: skip
WAVE_TABS = ("/board", "/progress")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh app loaded with the full demo (every role has pages)."""
    with serve(tmp_path_factory.mktemp("layout-live"), [DEMO]) as server:
        yield server.url


@pytest.fixture
def small_phone(browser: Any, demo_server: str) -> Iterator[Any]:
    """The narrowest phone we support, in Chinese."""
    yield from _page(
        browser, demo_server,
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
        device_scale_factor=2,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )  # fmt: skip


@pytest.fixture
def desk(browser: Any, demo_server: str) -> Iterator[Any]:
    """A desk screen, in English."""
    yield from _page(
        browser, demo_server, viewport={"width": 1280, "height": 900},
        extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
    )  # fmt: skip


def _sign_in(page: Any, role: str, locale: str = "zh_Hans") -> None:
    """Signs in as the demo user of ``role`` and switches to ``locale`` if a saved
    choice of the user's (the footer's) says otherwise."""
    lang = "zh-Hans" if locale == "zh_Hans" else locale
    page.goto("/login")
    page.locator("input[name=email]").fill(f"{role}@demo.auditapp.cn")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "sign-in failed"
    if page.locator("html").get_attribute("lang") != lang:  # a saved choice
        page.locator("#footer-locale").select_option(locale)
        page.locator(".footer form button").click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang


def _check(page: Any, label: str, artifacts: Path, problems: list[str], taps: bool = True) -> None:
    """Records what does not fit; ``taps``: also thumb-sized targets (phones only: the
    desk layout leaves links in lists at their text's size, on purpose)."""
    page.wait_for_load_state()
    found = page.evaluate(MEASURE, [PRIMARY, TAP])
    # Compare with the phone's width, not innerWidth: a mobile browser zooms a too-wide
    # page out (innerWidth grows with it), which hides the scroll and shrinks the text.
    screen = page.viewport_size["width"]
    if max(found["scroll"], found["width"]) > screen:
        problems.append(f"{label}: wider than the screen ({found['scroll']} > {screen} px)")
    if taps:
        problems.extend(f"{label}: tap target under {TAP} px: {what}" for what in found["small"])
    problems.extend(f"{label}: sticks out of the screen: {what}" for what in found["beyond"][:5])
    folder = artifacts / "layout"
    folder.mkdir(exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _visit(page: Any, target: str) -> str:
    if target.startswith("first:"):
        listing, selector = target[len("first:") :].split("|")
        page.goto(listing)
        href = page.locator(selector).first.get_attribute("href")
        assert href, f"no link {selector} on {listing}"
        target = href
    response = page.goto(target)
    assert response is not None and response.ok, f"{target}: HTTP {response and response.status}"
    return target


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_fit_a_360px_phone_in_chinese(
    small_phone: Any, artifacts: Path, role: str
) -> None:
    page = small_phone
    _sign_in(page, role)
    problems: list[str] = []
    for target in PAGES[role]:
        path = _visit(page, target)
        _check(page, f"{role} {path}", artifacts, problems)
        if re.fullmatch(r"/waves/\d+", path.rstrip("/")):  # set-up, then its board and progress
            for tab in WAVE_TABS:
                _visit(page, path.rstrip("/") + tab)
                _check(page, f"{role} {path}{tab}", artifacts, problems)
    page.goto("/")
    page.locator("details.menu summary").click()  # the phone menu, open
    _check(page, f"{role} menu", artifacts, problems)
    assert problems == []
    assert page.js_problems == []


def test_the_shoppers_visit_pages_fit_a_360px_phone_in_chinese(
    small_phone: Any, artifacts: Path
) -> None:
    """Claim a visit, read its briefing, open the visit form: the shopper's day."""
    page = small_phone
    _sign_in(page, "shopper")
    problems: list[str] = []
    page.goto("/my/find")
    with page.expect_navigation():
        page.locator("article.mv-card form.claim button").first.tap()
    _check(page, "shopper my visits after claim", artifacts, problems)
    page.locator("article.mv-card h3 a").first.tap()
    page.wait_for_url(re.compile(r"/my/visits/\d+$"))
    _check(page, "shopper briefing", artifacts, problems)
    page.locator("#briefing a.button").tap()  # "Open the visit form"
    page.wait_for_url(re.compile(r"/my/visits/\d+/form$"))
    _check(page, "shopper visit form", artifacts, problems)
    assert problems == []


def test_the_review_pages_fit_a_1280px_desk_in_english(desk: Any, artifacts: Path) -> None:
    page = desk
    _sign_in(page, "reviewer", "en")
    problems: list[str] = []
    for target in REVIEW_PAGES:
        path = _visit(page, target)
        _check(page, f"reviewer desk {path}", artifacts, problems, taps=False)
    assert problems == []
    assert page.js_problems == []
