"""The starter library: six bilingual checklists that load, lint clean and copy."""

import pytest

import scoring
from auditapp import starters
from auditapp.errors import DomainError
from auditapp.extensions import db
from auditapp.services.checklists import versions as svc

KEYS = [key for key, _description in starters.catalogue()]


def test_there_are_six_starters_with_titles_in_both_languages():
    found = svc.list_starters()
    assert [s.key for s in found] == [
        "retail_visit",
        "restaurant_visit",
        "bank_branch_visit",
        "phone_call",
        "complaint_handling",
        "in_home_service",
    ]
    for starter in found:
        assert starter.title and starter.title_zh and starter.description
        assert starter.title != starter.title_zh


@pytest.mark.parametrize("key", KEYS)
def test_starter_loads_and_lints_without_errors(key):
    checklist = scoring.load_checklist(starters.document(key))
    errors = [i for i in scoring.lint_checklist(checklist) if i.level == "error"]
    assert errors == []


@pytest.mark.parametrize("key", KEYS)
def test_starter_is_bilingual_and_uses_the_platform_features(key):
    checklist = scoring.load_checklist(starters.document(key))
    questions = checklist.questions()

    def zh(obj, field):
        return scoring.localized(obj.translations, "zh", field, "")

    assert zh(checklist, "title")
    assert all(zh(s, "title") for s in checklist.sections)
    assert all(zh(q, "text") for q in questions)
    assert all(zh(q, "guidance") for q in questions if q.guidance)
    assert all(zh(o, "label") for q in questions for o in q.options)
    assert checklist.scoring.method == "weighted_sections"
    assert all(s.weight is not None for s in checklist.sections)
    assert any(q.critical for q in questions)
    assert any(q.type == "nps" for q in questions)
    assert any(q.show_if is not None for q in questions)
    assert any(q.type == "number" and q.bands for q in questions)
    assert {q.tag for q in questions if q.scored} >= {"compliance", "effectiveness"}
    assert sum(1 for q in questions if q.guidance) >= 3


def test_the_retail_starter_knows_the_fifteen_minute_rule():
    checklist = scoring.load_checklist(starters.document("retail_visit"))
    rule = {q.key: q for q in checklist.questions()}["spoken_to_15"]
    assert rule.critical and "15 minutes" in rule.guidance
    result = scoring.score_visit(checklist, {"spoken_to_15": "no", "greet_smile": "yes"})
    assert result.to_json()["result"] == "FAIL"


@pytest.mark.parametrize("key", KEYS)
def test_copying_a_starter_makes_a_draft_with_the_same_document(key, make_client, make_user):
    user = make_user(f"{key}@example.com", "coordinator")
    checklist = svc.copy_starter(key, make_client("ST"), user)
    db.session.flush()

    version = svc.draft_of(checklist)
    assert checklist.created_by is user and version.number == 1
    assert svc.version_document(version) == scoring.dump_checklist(
        scoring.load_checklist(starters.document(key))
    )


def test_copying_an_unknown_starter_is_not_found(make_client):
    with pytest.raises(DomainError) as caught:
        svc.copy_starter("nope", make_client("ST"), None)
    assert caught.value.status_code == 404
