"""The coordinator's checklist screens: list, new, starter, import, builder edits,
lint and publish, the immutability of published versions, preview scoring, diff and
exports. CSRF stays on: every POST carries the session's token."""

import io
import json
import re

import pytest
from flask import url_for
from sqlalchemy import func, select

import scoring
from auditapp.extensions import db
from auditapp.models import Checklist, ChecklistVersion
from auditapp.services.checklists import versions as checklists
from tests.conftest import csrf_token, login

DOCUMENT = {
    "title": "Store audit",
    "scoring": {"method": "weighted_sections", "pass_mark": 80,
                "bands": [{"min": 90, "label": "Excellent"}, {"min": 0, "label": "Poor"}]},
    "sections": [
        {"key": "greeting", "title": "Greeting", "weight": 40, "questions": [
            {"key": "greeted", "text": "Were you greeted?", "type": "yes_no",
             "na_allowed": True, "required": True, "guidance": "Within 30 seconds."},
            {"key": "staff", "text": "Staff behaviour", "type": "choice", "options": [
                {"value": "warm", "label": "Warm", "points": 2},
                {"value": "rude", "label": "Rude", "points": 0}]},
            {"key": "why", "text": "Why rude?", "type": "text",
             "show_if": {"question": "staff", "equals": "rude"}},
        ]},
        {"key": "store", "title": "Store", "weight": 60, "questions": [
            {"key": "clean", "text": "Clean floor?", "type": "yes_no", "critical": True},
            {"key": "tidy", "text": "Tidiness", "type": "scale", "min": 1, "max": 5},
            {"key": "wait", "text": "Seconds waited", "type": "number", "na_allowed": True,
             "bands": [{"max": 30, "points": 2}, {"points": 0}]},
        ]},
    ],
}  # fmt: skip


@pytest.fixture
def people(make_client, make_user):
    client_x, client_y = make_client("X"), make_client("Y")
    coordinator = make_user("coord@example.com", "coordinator", clients=[client_x])
    other = make_user("other@example.com", "coordinator", clients=[client_y])
    db.session.commit()  # a view's rollback (a refused edit) must not undo the fixtures
    return client_x, coordinator, other


@pytest.fixture
def draft(people):
    client_x, coordinator, _other = people
    checklist = checklists.create_checklist(client_x, "", coordinator, DOCUMENT)
    db.session.commit()
    return checklists.draft_of(checklist)


@pytest.fixture
def published(draft, people):
    checklists.publish(draft, people[1])
    db.session.commit()
    return draft


@pytest.fixture
def web(client, people):
    return login(client, people[1])


def post(web, url, data=None, **kw):
    return web.post(url, data={"csrf_token": csrf_token(web), **(data or {})}, **kw)


def urls(app, endpoint, **values):
    with app.test_request_context():
        return url_for(endpoint, **values)


def count_checklists():
    return db.session.scalar(select(func.count(Checklist.id)))


# --- list, new, starter, import ------------------------------------------------------


def test_list_shows_checklists_in_scope_only(app, web, client, draft, people):
    page = web.get("/checklists/")
    assert page.status_code == 200
    assert "Store audit" in page.text and "Draft v1" in page.text
    other = login(app.test_client(), people[2])
    assert "Store audit" not in other.get("/checklists/").text


def test_outsider_gets_404_for_a_checklist_of_another_client(app, draft, people):
    other = login(app.test_client(), people[2])
    assert other.get(f"/checklists/{draft.checklist_id}").status_code == 404
    assert other.get(f"/checklists/versions/{draft.id}").status_code == 404


def test_new_checklist_opens_its_draft_in_the_builder(web, people):
    response = post(web, "/checklists/new", {"new-client_id": people[0].id, "new-title": "Phone"})
    assert response.status_code == 302
    version = db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.title == "Phone")
    ).one()
    assert response.location.endswith(f"/checklists/versions/{version.id}")
    assert version.status == "draft"


def test_new_checklist_for_a_client_out_of_scope_is_refused(web, make_client):
    stranger = make_client("Z")
    response = post(web, "/checklists/new", {"new-client_id": stranger.id, "new-title": "Nope"})
    assert response.status_code == 400
    assert count_checklists() == 0


def test_copy_from_the_starter_library(web, people):
    starter = checklists.list_starters()[0]
    response = post(
        web,
        "/checklists/starter",
        {"starter-starter": starter.key, "starter-client_id": people[0].id},
    )
    assert response.status_code == 302
    assert count_checklists() == 1


def test_import_lists_every_problem_and_saves_nothing(web, people):
    broken = {
        "title": "Broken",
        "sections": [{"key": "s", "title": "S", "questions": [
            {"key": "a", "text": "A", "type": "yes_no", "wieght": 2},
            {"key": "b", "text": "B", "type": "sometimes"},
            {"key": "c", "type": "yes_no"},
        ]}],
    }  # fmt: skip
    data = {
        "client_id": people[0].id,
        "file": (io.BytesIO(json.dumps(broken).encode()), "broken.json"),
    }
    response = post(web, "/checklists/import", data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    problems = re.findall(r"<li>(.*?)</li>", response.text.split('class="cl-problems"')[1])
    assert len(problems) == 3, problems
    assert "wieght" in problems[0]
    assert "questions[1].type" in problems[1]
    assert "questions[2].text" in problems[2]
    assert count_checklists() == 0


def test_import_of_an_export_round_trips(web, published, people):
    exported = web.get(f"/checklists/versions/{published.id}/export.yaml")
    assert exported.status_code == 200
    data = {"client_id": people[0].id, "file": (io.BytesIO(exported.data), "audit.yaml")}
    response = post(web, "/checklists/import", data, content_type="multipart/form-data")
    assert response.status_code == 302
    imported = db.session.scalars(
        select(Checklist).where(Checklist.id != published.checklist_id)
    ).one()
    version = checklists.draft_of(imported)
    assert checklists.version_document(version) == checklists.version_document(published)


@pytest.mark.parametrize(
    ("fmt", "mimetype"),
    [("json", "application/json"), ("yaml", "application/yaml"), ("xlsx", "spreadsheetml")],
)
def test_exports(web, published, fmt, mimetype):
    response = web.get(f"/checklists/versions/{published.id}/export.{fmt}")
    assert response.status_code == 200
    assert mimetype in response.mimetype
    assert f"store-audit-v1.{fmt}" in response.headers["Content-Disposition"]


# --- the builder ---------------------------------------------------------------------


def test_builder_shows_sections_questions_settings_and_lint(web, draft):
    page = web.get(f"/checklists/versions/{draft.id}")
    assert page.status_code == 200
    for text in ("Greeting", "Store", "Were you greeted?", "Shown when staff", "Scoring settings"):
        assert text in page.text
    assert 'id="lint"' in page.text
    assert "warning(s) (publishing is allowed)" in page.text
    assert "block publishing" not in page.text


def test_add_and_edit_a_question_with_options_and_a_condition(web, draft):
    store = draft.sections[1]
    response = post(
        web, f"/checklists/sections/{store.id}/questions/new",
        {"text": "Price tags correct?", "type": "choice", "weight": "2", "critical": "y",
         "options-0-value": "all", "options-0-label": "All", "options-0-points": "1",
         "options-0-label_zh": "全部",
         "options-1-value": "some", "options-1-label": "Some", "options-1-points": "0",
         "show_if_question": "clean", "show_if_op": "equals", "show_if_value": "yes",
         "text_zh": "价签正确吗？"},
    )  # fmt: skip
    assert response.status_code == 302, response.text
    doc = checklists.version_document(draft)
    added = doc["sections"][1]["questions"][-1]
    assert added["text"] == "Price tags correct?"
    assert added["weight"] == 2 and added["critical"] is True
    assert [o["value"] for o in added["options"]] == ["all", "some"]
    assert added["options"][0]["translations"] == {"zh": {"label": "全部"}}
    assert added["show_if"] == {"question": "clean", "equals": "yes"}
    assert added["translations"] == {"zh": {"text": "价签正确吗？"}}

    question = draft.sections[1].questions[-1]
    form = web.get(f"/checklists/questions/{question.id}/edit")
    assert 'value="all"' in form.text and "价签正确吗？" in form.text
    response = post(
        web, f"/checklists/questions/{question.id}/edit",
        {"text": "Price tags right?", "type": "choice", "weight": "3", "key": added["key"],
         "options-0-value": "all", "options-0-label": "All", "options-0-points": "1",
         "options-1-value": "some", "options-1-label": "Some", "options-1-points": "0.5"},
    )  # fmt: skip
    assert response.status_code == 302, response.text
    edited = checklists.version_document(draft)["sections"][1]["questions"][-1]
    assert edited["text"] == "Price tags right?" and edited["weight"] == 3
    assert "show_if" not in edited and "critical" not in edited


def test_question_form_errors_are_shown_not_saved(web, draft):
    before = checklists.version_document(draft)
    section = draft.sections[0]
    response = post(
        web, f"/checklists/sections/{section.id}/questions/new",
        {"text": "Dup", "type": "yes_no", "key": "greeted"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "already uses the key" in response.text
    assert checklists.version_document(draft) == before


def test_condition_may_only_pick_an_earlier_question(web, draft):
    greeted = draft.sections[0].questions[0]
    page = web.get(f"/checklists/questions/{greeted.id}/edit")
    assert "A condition can only look at an earlier question" in page.text
    tidy = draft.sections[1].questions[1]
    page = web.get(f"/checklists/questions/{tidy.id}/edit")
    select_html = page.text.split('name="show_if_question"')[1]
    options = re.findall(r'<option[^>]*value="([^"]*)"', select_html)
    assert options[:5] == ["", "greeted", "staff", "why", "clean"]
    assert "wait" not in options[:5]


def test_sections_and_questions_reorder_duplicate_and_delete(web, draft):
    greeting, store = draft.sections
    post(web, f"/checklists/sections/{store.id}/move", {"direction": "up"})
    assert [s["key"] for s in checklists.version_document(draft)["sections"]] == [
        "store", "greeting",
    ]  # fmt: skip
    clean = store.questions[0]
    post(web, f"/checklists/questions/{clean.id}/move", {"direction": "down"})
    keys = [q["key"] for q in checklists.version_document(draft)["sections"][0]["questions"]]
    assert keys == ["tidy", "clean", "wait"]
    post(web, f"/checklists/questions/{clean.id}/duplicate")
    post(web, f"/checklists/sections/{greeting.id}/duplicate")
    doc = checklists.version_document(draft)
    assert [q["key"] for q in doc["sections"][0]["questions"]] == [
        "tidy", "clean", "clean_2", "wait",
    ]  # fmt: skip
    assert len(doc["sections"]) == 3
    response = post(web, f"/checklists/questions/{clean.id}/delete")
    assert response.status_code == 302
    staff = greeting.questions[1]
    response = post(web, f"/checklists/questions/{staff.id}/delete")  # why depends on it
    assert response.status_code == 302
    doc = checklists.version_document(draft)
    assert "clean" not in [q["key"] for s in doc["sections"] for q in s["questions"]]
    assert "staff" in [q["key"] for s in doc["sections"] for q in s["questions"]]


def test_settings_and_grade_bands(web, draft):
    response = post(
        web, f"/checklists/versions/{draft.id}/settings",
        {"settings-title": "Store audit 2", "settings-language": "en",
         "settings-method": "pooled", "settings-pass_mark": "75", "settings-decimals": "2",
         "settings-unanswered": "zero", "settings-critical_failure": "flag",
         "settings-bands-0-min": "80", "settings-bands-0-label": "Good",
         "settings-bands-0-label_zh": "良好",
         "settings-bands-1-min": "0", "settings-bands-1-label": "Poor"},
    )  # fmt: skip
    assert response.status_code == 302, response.text
    rules = checklists.version_document(draft)["scoring"]
    assert rules.get("method", "pooled") == "pooled"
    assert rules["pass_mark"] == 75 and rules["decimals"] == 2
    assert rules["unanswered"] == "zero" and rules["critical_failure"] == "flag"
    assert rules.get("cap_at_100", True) is False  # unticked box
    assert rules["bands"][0] == {
        "min": 80,
        "label": "Good",
        "translations": {"zh": {"label": "良好"}},
    }


def test_add_section(web, draft):
    response = post(
        web, f"/checklists/versions/{draft.id}/sections",
        {"section-title": "Farewell", "section-weight": "10"},
    )  # fmt: skip
    assert response.status_code == 302
    assert checklists.version_document(draft)["sections"][-1]["title"] == "Farewell"


# --- lint and publish ------------------------------------------------------------------


def test_lint_errors_block_publishing(web, draft):
    checklists.add_question(draft.sections[0], {"key": "broken", "text": "Pick", "type": "choice"})
    db.session.flush()
    page = web.get(f"/checklists/versions/{draft.id}")
    assert "block publishing" in page.text and "has no options" in page.text
    response = post(web, f"/checklists/versions/{draft.id}/publish")
    assert response.status_code == 409
    assert "publish-blocked" in response.text and "has no options" in response.text
    db.session.refresh(draft)
    assert draft.status == "draft"


def test_publish_and_start_a_new_version(web, draft):
    response = post(web, f"/checklists/versions/{draft.id}/publish")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status == "published" and draft.published_at is not None
    response = post(web, f"/checklists/{draft.checklist_id}/new-version")
    assert response.status_code == 302
    v2 = checklists.draft_of(draft.checklist)
    assert v2.number == 2
    assert checklists.version_document(v2) == checklists.version_document(draft)
    page = web.get(f"/checklists/{draft.checklist_id}")
    assert "Version 2" in page.text and "Version 1" in page.text


def test_published_version_page_is_read_only(web, published):
    page = web.get(f"/checklists/versions/{published.id}")
    assert page.status_code == 200
    assert "read-only" in page.text
    assert "/move" not in page.text and "questions/new" not in page.text
    # Settings read as words, not as the document's keys.
    assert "Visit scores 0 and fails" in page.text and "zero_visit" not in page.text


def _editing_requests(version):
    section = version.sections[0]
    question = section.questions[0]
    form = {"text": "Changed", "type": "yes_no", "title": "Changed", "direction": "down"}
    return [
        ("POST", f"/checklists/versions/{version.id}/settings", {"settings-title": "Changed"}),
        ("POST", f"/checklists/versions/{version.id}/sections", {"section-title": "New"}),
        ("POST", f"/checklists/versions/{version.id}/publish", {}),
        ("GET", f"/checklists/sections/{section.id}/edit", {}),
        ("POST", f"/checklists/sections/{section.id}/edit", form),
        ("POST", f"/checklists/sections/{section.id}/move", form),
        ("POST", f"/checklists/sections/{section.id}/duplicate", {}),
        ("POST", f"/checklists/sections/{section.id}/delete", {}),
        ("GET", f"/checklists/sections/{section.id}/questions/new", {}),
        ("POST", f"/checklists/sections/{section.id}/questions/new", form),
        ("GET", f"/checklists/questions/{question.id}/edit", {}),
        ("POST", f"/checklists/questions/{question.id}/edit", form),
        ("POST", f"/checklists/questions/{question.id}/move", form),
        ("POST", f"/checklists/questions/{question.id}/duplicate", {}),
        ("POST", f"/checklists/questions/{question.id}/delete", {}),
    ]


def test_every_editing_route_refuses_a_published_version(app, web, published):
    before = checklists.version_document(published)
    requests = _editing_requests(published)
    # Every editing endpoint of the blueprint is in the list above.
    editing = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("checklists.")
        and rule.endpoint.split(".")[1].startswith(
            ("add_", "edit_", "move_", "duplicate_", "delete_", "settings", "publish")
        )
    }
    with app.test_request_context():
        routed = {app.url_map.bind("").match(url, method=m)[0] for m, url, _ in requests}
    assert editing <= routed, editing - routed
    for method, url, data in requests:
        response = web.get(url) if method == "GET" else post(web, url, data)
        assert response.status_code == 409, (method, url, response.status_code)
        assert "can no longer be changed" in response.text
        db.session.expire_all()
        assert checklists.version_document(published) == before, (method, url)
    assert db.session.get(ChecklistVersion, published.id).status == "published"


# --- preview -----------------------------------------------------------------------------


ANSWERS = [
    ("q_greeted", "yes"), ("q_staff", "rude"), ("q_why", "Ignored me"),
    ("q_clean", "yes"), ("q_tidy", "4"), ("q_wait", "45"),
]  # fmt: skip


def test_preview_shows_the_form_as_the_shopper_sees_it(web, draft):
    page = web.get(f"/checklists/versions/{draft.id}/preview")
    assert page.status_code == 200
    assert "Within 30 seconds." in page.text  # guidance
    assert 'name="q_greeted" type="radio" value="na"' in page.text
    assert re.search(r'<div class="vq" data-key="why" id="vq-why" hidden>', page.text)
    assert "builder.js" in page.text and "<script>" not in page.text


def test_preview_score_json_matches_score_visit(web, draft):
    response = post(web, f"/checklists/versions/{draft.id}/preview/score", dict(ANSWERS))
    assert response.status_code == 200
    result = response.get_json()
    checklist = checklists.scoring_checklist(draft)
    answers = {"greeted": "yes", "staff": "rude", "why": "Ignored me", "clean": "yes",
               "tidy": 4, "wait": 45}  # fmt: skip
    expected = scoring.score_visit(checklist, answers)
    assert result["score"] == str(expected.display_score())
    assert result["result"] == expected.result
    assert result["grade"] == expected.grade
    assert result["critical_failures"] == list(expected.critical_failures)
    sections = expected.to_json()["sections"]
    assert [s["score"] for s in result["sections"]] == [
        str(sections[k]["score"]) for k in ("greeting", "store")
    ]
    assert "why" in result["visible"] and result["errors"] == {}


def test_preview_score_hides_conditional_and_reports_bad_values(web, draft):
    data = {"q_greeted": "no", "q_staff": "warm", "q_why": "x", "q_clean": "no", "q_tidy": "9"}
    result = post(web, f"/checklists/versions/{draft.id}/preview/score", data).get_json()
    assert "why" not in result["visible"]
    assert set(result["errors"]) == {"tidy"}
    assert result["critical_failures"] == ["clean"]
    assert result["score"] == "0.0" and result["result"] == "FAIL"


def test_preview_without_javascript_calculates_on_submit(web, draft):
    page = post(web, f"/checklists/versions/{draft.id}/preview", dict(ANSWERS))
    assert page.status_code == 200
    assert re.search(r'id="score-value"[^>]*>[0-9.]+<', page.text)
    assert re.search(r'<div class="vq" data-key="why" id="vq-why">', page.text)


def test_preview_in_chinese_uses_translations(web, draft):
    checklists.update_question(
        draft.sections[0].questions[0], {"translations": {"zh": {"text": "是否问候？"}}}
    )
    db.session.flush()
    page = web.get(f"/checklists/versions/{draft.id}/preview?lang=zh")
    assert "是否问候？" in page.text


# --- diff --------------------------------------------------------------------------------


def test_diff_between_versions_is_readable(web, published):
    post(web, f"/checklists/{published.checklist_id}/new-version")
    v2 = checklists.draft_of(published.checklist)
    greeted = v2.sections[0].questions[0]
    checklists.update_question(greeted, {"text": "Greeted within 30 s?", "weight": 2})
    checklists.add_section(v2, {"title": "Farewell"})
    db.session.flush()
    page = web.get(f"/checklists/{published.checklist_id}/diff?old={published.id}&new={v2.id}")
    assert page.status_code == 200
    assert "Version 1 → version 2" in page.text
    assert "<del>Were you greeted?</del> → <ins>Greeted within 30 s?</ins>" in page.text
    assert "<del>1</del> → <ins>2</ins>" in page.text
    assert "Farewell" in page.text and "cl-kind-added" in page.text
