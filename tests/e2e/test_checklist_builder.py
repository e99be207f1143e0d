"""Acceptance: a coordinator builds a checklist through the real UI, previews it with
live scoring, publishes it, edits it into version 2 and reads the diff.

Only the browser and the live server subprocess are involved; nothing here touches
the app's objects. Screenshots go to test-artifacts/ (git-ignored)."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# (section title, [(key, text, type, extra)]) — extra: options, range, bands, flags, condition.
PLAN: list[tuple[str, list[tuple[str, str, str, dict[str, Any]]]]] = [
    ("Greeting", [
        ("greeted", "Were you greeted within 30 seconds?", "yes_no",
         {"flags": ["required", "na_allowed"], "guidance": "Count from the moment you enter."}),
        ("staff", "Staff behaviour", "choice",
         {"options": [("warm", "Warm", "2"), ("neutral", "Neutral", "1"), ("rude", "Rude", "0")]}),
        ("why", "Why was the staff rude?", "text",
         {"show_if": ("staff", "equals", "rude")}),
        ("wait_s", "Seconds until first contact", "number",
         {"bands": [("30", "2"), ("120", "1"), ("", "0")]}),
    ]),
    ("Store", [
        ("clean", "Was the floor clean?", "yes_no", {"flags": ["critical"]}),
        ("tidy", "Tidiness of the shelves", "scale", {"range": ("1", "5")}),
        ("display", "Which displays were in place?", "multi",
         {"options": [("sign", "Signage", "1"), ("price", "Price tags", "1")]}),
        ("shelf_photo", "Photo of the main shelf", "photo", {}),
    ]),
    ("Checkout", [
        ("thanked", "Did the cashier thank you?", "yes_no", {}),
        ("receipt", "Was a receipt offered?", "yes_no", {"weight": "2"}),
        ("recommend", "Would you recommend this store?", "nps", {}),
        ("visit_date", "Date of the visit", "date", {}),
    ]),
]  # fmt: skip


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _section(page: Any, title: str) -> Any:
    return page.locator("section.cl-section").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^\d+\. {title}$"))
    )


def _add_question(page: Any, section: str, key: str, text: str, kind: str, extra: dict) -> None:
    with page.expect_navigation():
        _section(page, section).get_by_role("link", name=re.compile("Add question")).click()
    page.fill("textarea[name=text]", text)
    page.select_option("select[name=type]", kind)
    page.fill("input[name=key]", key)
    for flag in extra.get("flags", []):
        page.check(f"input[name={flag}]")
    if "weight" in extra:
        page.fill("input[name=weight]", extra["weight"])
    if "guidance" in extra:
        page.fill("textarea[name=guidance]", extra["guidance"])
    for i, (value, label, points) in enumerate(extra.get("options", [])):
        page.fill(f"input[name=options-{i}-value]", value)
        page.fill(f"input[name=options-{i}-label]", label)
        page.fill(f"input[name=options-{i}-points]", points)
    if "range" in extra:
        page.fill("input[name=min]", extra["range"][0])
        page.fill("input[name=max]", extra["range"][1])
    for i, (upto, points) in enumerate(extra.get("bands", [])):
        page.fill(f"input[name=bands-{i}-max]", upto)
        page.fill(f"input[name=bands-{i}-points]", points)
    if "show_if" in extra:
        target, op, value = extra["show_if"]
        page.select_option("select[name=show_if_question]", target)
        page.select_option("select[name=show_if_op]", op)
        page.fill("input[name=show_if_value]", value)
    _submit(page, "button:has-text('Save question')")
    expect(page.locator(f"li.cl-question[data-key={key}]")).to_contain_text(text)


def _build(page: Any, title: str) -> None:
    page.goto("/checklists/")
    page.fill("input[name=new-title]", title)
    _submit(page, "button:has-text('Create checklist')")
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    # The new checklist starts with one empty section: rename it, then add two more.
    first, *others = [section for section, _questions in PLAN]
    with page.expect_navigation():
        page.locator("section.cl-section").first.get_by_role("link", name="Edit").click()
    page.fill("input[name=title]", first)
    _submit(page, "button:has-text('Save section')")
    for title_ in others:
        page.fill("input[name=section-title]", title_)
        _submit(page, "button:has-text('Add section')")
    for section, questions in PLAN:
        for key, text, kind, extra in questions:
            _add_question(page, section, key, text, kind, extra)


def _score(page: Any, value: str) -> None:
    expect(page.locator("#score-value")).to_have_text(value)


def test_coordinator_builds_previews_publishes_and_revises_a_checklist(
    desk_page: Any, sign_in: Any, artifacts: Path
) -> None:
    page = desk_page
    sign_in(page)
    _build(page, "E2E store audit")

    # The builder: 3 sections, 12 questions, the condition and the critical item shown,
    # and the lint panel (always visible) without errors.
    assert page.locator("section.cl-section").count() == 3
    assert page.locator("li.cl-question").count() == 12
    expect(page.locator("li[data-key=why] .cl-condition")).to_contain_text("staff")
    expect(page.locator("li[data-key=clean] .cl-critical")).to_be_visible()
    expect(page.locator("#lint")).to_be_visible()
    assert page.locator("#lint .cl-errors").count() == 0, page.locator("#lint").inner_text()
    page.screenshot(path=str(artifacts / "checklist-builder.png"), full_page=True)
    builder_url = page.url.split("#")[0]

    # Preview: the shopper's form; each answer rescores live and the conditional
    # question appears only when staff was rude.
    _submit(page, "a:has-text('Preview')")
    why = page.locator(".vq[data-key=why]")
    expect(page.locator(".vq[data-key=greeted] .vq-guidance")).to_have_text(
        "Count from the moment you enter."
    )
    expect(why).to_be_hidden()
    _score(page, "—")
    page.check("input[name=q_greeted][value=yes]")
    _score(page, "100.0")
    page.check("input[name=q_staff][value=rude]")
    _score(page, "33.3")
    expect(why).to_be_visible()
    page.fill("textarea[name=q_why]", "Ignored me at the counter")
    page.check("input[name=q_staff][value=warm]")
    _score(page, "100.0")
    expect(why).to_be_hidden()
    page.check("input[name=q_clean][value=no]")  # the critical item fails the visit
    _score(page, "0.0")
    expect(page.locator("#score-result")).to_have_text("FAIL")
    expect(page.locator("#score-critical")).to_have_text("clean")
    page.check("input[name=q_clean][value=yes]")
    page.check("input[name=q_tidy][value='3']")
    _score(page, "90.0")  # (1 + 2 + 1 + 0.5) / 5
    expect(page.locator("#score-result")).to_have_text("PASS")
    page.screenshot(path=str(artifacts / "checklist-preview.png"), full_page=True)

    # Publish version 1.
    page.goto(builder_url)
    _submit(page, "button:has-text('Publish')")
    expect(page.locator("tr[data-version='1']")).to_contain_text("published")

    # Edit into version 2: change a question's text and weight.
    _submit(page, "button:has-text('Edit → new version')")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Version 2")
    with page.expect_navigation():
        page.locator("li.cl-question[data-key=receipt]").get_by_role("link").click()
    page.fill("textarea[name=text]", "Was a printed receipt offered?")
    page.fill("input[name=weight]", "3")
    _submit(page, "button:has-text('Save question')")
    expect(page.locator("li[data-key=receipt]")).to_contain_text("weight 3")

    # Both versions on the checklist page, and their diff.
    _submit(page, "a:has-text('‹ E2E store audit')")
    expect(page.locator("tr[data-version='1']")).to_contain_text("published")
    expect(page.locator("tr[data-version='2']")).to_contain_text("draft")
    _submit(page, "button:has-text('Show differences')")
    expect(page.get_by_role("heading", level=1)).to_have_text("Version 1 → version 2")
    table = page.locator("table.cl-diff")
    expect(table).to_contain_text("Was a receipt offered?")
    expect(table).to_contain_text("Was a printed receipt offered?")
    weight_row = table.locator("tr", has_text="weight")
    expect(weight_row).to_contain_text("2 → 3")
    assert page.js_problems == []


def test_builder_and_preview_fit_a_360px_phone(phone_page: Any, sign_in: Any, artifacts: Path):
    page = phone_page
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page)
    page.goto("/checklists/")
    page.fill("input[name=new-title]", "Phone check")
    _submit(page, "button:has-text('Create checklist')")
    _add_question(page, "General", "smile", "Did the staff smile at you?", "scale", {
        "range": ("0", "10"), "guidance": "A real smile, not a polite one.",
    })  # fmt: skip

    def fits() -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert fits(), "the builder scrolls sideways"
    _submit(page, "a:has-text('Preview')")
    assert fits(), "the preview scrolls sideways"
    box = page.locator("input[name=q_smile][value='10']").locator("xpath=..").bounding_box()
    assert box["height"] >= 44, "touch targets are at least 44 px high"
    page.locator("input[name=q_smile][value='7'] + label").tap()
    _score(page, "70.0")
    page.screenshot(path=str(artifacts / "checklist-preview-phone.png"), full_page=True)
    assert page.js_problems == []
