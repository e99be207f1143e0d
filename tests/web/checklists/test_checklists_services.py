"""Checklist services: creating, versioning, the document, builder edits, publishing."""

import copy
from decimal import Decimal

import pytest

import scoring
from auditapp.errors import DomainError
from auditapp.extensions import db
from auditapp.models import ChecklistLocked, ChecklistQuestion, ChecklistVersion
from auditapp.services.checklists import versions as svc
from tests.web.worlds.checklists import SPEC


@pytest.fixture
def acme(make_client):
    return make_client("ACME")


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin")


@pytest.fixture
def checklist(acme, admin):
    made = svc.create_checklist(acme, "", admin, copy.deepcopy(SPEC))
    db.session.flush()
    return made


def _reload(version):
    db.session.flush()
    db.session.expire_all()
    return db.session.get(ChecklistVersion, version.id)


def _keys(version):
    return [(s.key, [q.key for q in s.questions]) for s in version.sections]


# --- creating and the document --------------------------------------------------------


def test_document_round_trips_through_the_database(checklist):
    version = _reload(svc.draft_of(checklist))

    document = svc.version_document(version)

    assert document == scoring.dump_checklist(scoring.load_checklist(SPEC))
    assert scoring.load_checklist(document) == svc.scoring_checklist(version)
    assert version.sections[0].questions[2].weight == Decimal("2.5")


def test_new_checklist_without_document_has_one_general_section(acme, admin):
    made = svc.create_checklist(acme, "  Quick check ", admin)
    db.session.flush()

    version = svc.draft_of(made)
    assert (made.title, version.number, version.status) == ("Quick check", 1, "draft")
    assert svc.version_document(version) == {
        "title": "Quick check",
        "sections": [{"key": "general", "title": "General", "questions": []}],
    }
    assert svc.latest_published(made) is None


def test_create_refuses_an_invalid_document_listing_every_problem(acme, admin):
    bad = {"title": "", "sections": [{"key": "a b", "title": "A", "weight": "x"}]}

    with pytest.raises(svc.ChecklistInvalid) as caught:
        svc.create_checklist(acme, "", admin, bad)

    assert caught.value.problems == [
        "title: must be a non-empty string",
        "sections[0].weight: must be a number",
    ]


def test_storage_limits_are_problems(acme, admin):
    doc = copy.deepcopy(SPEC)
    doc["scoring"]["decimals"] = 6
    doc["sections"][0]["weight"] = Decimal("0.12345")
    doc["sections"][1]["key"] = "bad key"

    with pytest.raises(svc.ChecklistInvalid) as caught:
        svc.create_checklist(acme, "", admin, doc)

    assert caught.value.problems == [
        "scoring.decimals: must be a whole number from 0 to 4",
        "sections[0].weight: may have at most 4 decimal places",
        "sections[1].key: a key may only use letters, digits, _ and - (at most 64)",
    ]


def test_replace_document_swaps_everything_and_reports_duplicates(checklist):
    version = svc.draft_of(checklist)
    doc = copy.deepcopy(SPEC)
    doc["title"] = "Renamed"
    doc["sections"].reverse()
    del doc["sections"][0]["questions"][2]["show_if"]  # it looked at a later question now

    svc.replace_document(version, doc)
    version = _reload(version)

    assert [s.key for s in version.sections] == ["close", "greeting"]
    assert version.checklist.title == "Renamed"
    assert svc.version_document(version)["sections"][0]["key"] == "close"

    doc["sections"][1]["questions"][0]["key"] = "thanks"
    with pytest.raises(svc.ChecklistInvalid) as caught:
        svc.replace_document(version, doc)
    assert caught.value.problems == [
        "sections[1].questions[0].key: Another question of this version already uses the"
        " key thanks."
    ]


# --- versions and publishing ---------------------------------------------------------


def test_publish_then_new_version_copies_it(checklist, admin):
    draft = svc.draft_of(checklist)
    svc.publish(draft, admin)
    db.session.flush()

    assert draft.status == "published" and draft.published_by is admin
    assert draft.published_at is not None
    assert svc.draft_of(checklist) is None
    assert svc.latest_published(checklist) is draft

    second = svc.start_new_version(checklist, admin)
    db.session.flush()
    assert second.number == 2 and second.status == "draft"
    assert svc.version_document(second) == svc.version_document(draft)
    assert svc.start_new_version(checklist, admin) is second
    assert second.sections[0].id != draft.sections[0].id


def test_publish_is_blocked_by_lint_errors(checklist, admin):
    version = svc.draft_of(checklist)
    svc.add_question(version.sections[0], {"key": "pick", "text": "Pick", "type": "choice"})

    with pytest.raises(svc.PublishBlocked) as caught:
        svc.publish(version, admin)

    assert [i.level for i in caught.value.issues] == ["error"]
    assert "no options" in caught.value.issues[0].message
    assert version.status == "draft"


def test_lint_returns_warnings_too(acme, admin):
    made = svc.create_checklist(acme, "Empty", admin)
    issues = svc.lint(svc.draft_of(made))
    assert all(isinstance(i, scoring.LintIssue) for i in issues)


def test_only_one_draft_per_checklist_in_the_database(checklist):
    from sqlalchemy.exc import IntegrityError

    db.session.add(
        ChecklistVersion(checklist=checklist, number=9, title="x", status="draft", bands=[])
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_discard_draft_and_delete_checklist(checklist, admin):
    draft = svc.draft_of(checklist)
    with pytest.raises(DomainError):
        svc.discard_draft(draft)
    svc.publish(draft, admin)
    second = svc.start_new_version(checklist, admin)
    db.session.flush()
    svc.discard_draft(second)
    db.session.flush()
    assert [v.number for v in checklist.versions] == [1]
    with pytest.raises(DomainError):
        svc.delete_checklist(checklist)


# --- builder edits --------------------------------------------------------------------


def test_add_update_and_delete_a_section(checklist):
    version = svc.draft_of(checklist)
    added = svc.add_section(version, {"title": "Store environment", "weight": 10})
    assert added.key == "store_environment" and added.position == 2

    svc.update_section(added, {"title": "Environment", "pass_mark": Decimal("70")})
    version = _reload(version)
    section = version.sections[2]
    assert (section.title, section.weight, section.pass_mark) == (
        "Environment",
        Decimal("10"),
        Decimal("70"),
    )

    with pytest.raises(DomainError, match="already uses the key greeting"):
        svc.update_section(section, {"key": "greeting"})
    svc.delete_section(section)
    assert [s.key for s in _reload(version).sections] == ["greeting", "close"]


def test_a_section_another_condition_needs_cannot_be_deleted(checklist):
    version = svc.draft_of(checklist)
    with pytest.raises(DomainError, match="rate"):
        svc.delete_section(version.sections[0])


def test_move_section_refuses_to_put_a_condition_before_its_question(checklist):
    version = svc.draft_of(checklist)
    with pytest.raises(DomainError, match="earlier question"):
        svc.move_section(version.sections[1], -1)
    assert _keys(_reload(version))[0][0] == "greeting"


def test_move_section(checklist):
    version = svc.draft_of(checklist)
    svc.update_question(version.sections[1].questions[2], {"show_if": None})
    svc.move_section(version.sections[1], -5)
    version = _reload(version)
    assert [s.key for s in version.sections] == ["close", "greeting"]
    assert [s.position for s in version.sections] == [0, 1]


def test_duplicate_section_gives_new_keys_and_rewires_inner_conditions(checklist):
    version = svc.draft_of(checklist)
    copy_ = svc.duplicate_section(version.sections[0])
    version = _reload(version)

    assert _keys(version) == [
        ("greeting", ["greeted", "wait_s", "staff", "why"]),
        ("greeting_2", ["greeted_2", "wait_s_2", "staff_2", "why_2"]),
        ("close", ["thanks", "extra", "rate", "nps"]),
    ]
    assert version.sections[1].title == "Greeting (copy)"
    assert version.sections[1].questions[3].show_if == {"question": "staff_2", "in": ["rude"]}
    assert copy_.id == version.sections[1].id
    assert svc.duplicate_section(version.sections[1]).key == "greeting_3"


def test_add_and_update_a_question(checklist):
    version = svc.draft_of(checklist)
    section = version.sections[0]
    question = svc.add_question(
        section,
        {
            "text": "Did they smile?",
            "weight": Decimal("1.5"),
            "translations": {"zh": {"text": "微笑了吗？", "guidance": ""}},
        },
    )
    assert (question.key, question.type, question.position) == ("did_they_smile", "yes_no", 4)
    assert question.translations == {"zh": {"text": "微笑了吗？"}}

    svc.update_question(question, {"guidance": "Within three metres.", "critical": True})
    version = _reload(version)
    assert version.sections[0].questions[4].critical is True

    with pytest.raises(DomainError, match="already uses the key staff"):
        svc.update_question(version.sections[0].questions[4], {"key": "staff"})
    with pytest.raises(DomainError, match="not an earlier question"):
        svc.update_question(
            version.sections[0].questions[0], {"show_if": {"question": "nps", "gte": 9}}
        )
    with pytest.raises(DomainError, match="not an earlier question"):
        svc.add_question(section, {"text": "x", "show_if": {"question": "nope", "equals": "y"}})
    with pytest.raises(svc.ChecklistInvalid, match="must be one of"):
        svc.add_question(section, {"text": "x", "type": "essay"})


def test_renaming_a_question_renames_it_in_conditions(checklist):
    version = svc.draft_of(checklist)
    svc.update_question(version.sections[0].questions[2], {"key": "manner"})
    version = _reload(version)
    assert version.sections[0].questions[3].show_if == {"question": "manner", "in": ["rude"]}


def test_set_options_updates_in_place(checklist):
    question = svc.draft_of(checklist).sections[0].questions[2]
    warm_id = question.options[0].id
    svc.set_options(
        question,
        [
            {"value": "rude", "label": "Rude", "points": 0},
            {"value": "warm", "label": "Very warm", "points": 3, "translations": {}},
        ],
    )
    db.session.flush()
    db.session.expire_all()
    question = db.session.get(ChecklistQuestion, question.id)
    assert [(o.value, o.label, o.points, o.position) for o in question.options] == [
        ("rude", "Rude", Decimal("0"), 0),
        ("warm", "Very warm", Decimal("3"), 1),
    ]
    assert question.options[1].id == warm_id
    with pytest.raises(DomainError, match="more than once"):
        svc.set_options(question, [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}])


def test_move_question_within_and_across_sections(checklist):
    version = svc.draft_of(checklist)
    greeted = version.sections[0].questions[0]
    svc.move_question(greeted, 1)
    assert _keys(version)[0][1] == ["wait_s", "greeted", "staff", "why"]

    thanks = version.sections[1].questions[0]
    svc.move_question(thanks, -1)  # past the top: to the end of the previous section
    version = _reload(version)
    assert _keys(version) == [
        ("greeting", ["wait_s", "greeted", "staff", "why", "thanks"]),
        ("close", ["extra", "rate", "nps"]),
    ]
    svc.move_question(version.sections[0].questions[4], 2)  # down into "close", then one more
    version = _reload(version)
    assert _keys(version)[1][1] == ["extra", "thanks", "rate", "nps"]
    assert [q.position for q in version.sections[1].questions] == [0, 1, 2, 3]
    assert version.sections[1].questions[1].section_id == version.sections[1].id


def test_move_question_refuses_to_pass_its_condition(checklist):
    version = svc.draft_of(checklist)
    with pytest.raises(DomainError, match="earlier question"):
        svc.move_question(version.sections[0].questions[3], -1)
    svc.move_question(version.sections[0].questions[0], -3)  # already first: stays
    assert _keys(_reload(version))[0][1] == ["greeted", "wait_s", "staff", "why"]


def test_duplicate_and_delete_a_question(checklist):
    version = svc.draft_of(checklist)
    copy_ = svc.duplicate_question(version.sections[0].questions[2])
    assert copy_.key == "staff_2"
    version = _reload(version)
    assert _keys(version)[0][1] == ["greeted", "wait_s", "staff", "staff_2", "why"]
    assert [o.value for o in version.sections[0].questions[3].options] == [
        "warm",
        "neutral",
        "rude",
    ]

    with pytest.raises(DomainError, match="used by the condition of why"):
        svc.delete_question(version.sections[0].questions[2])
    svc.delete_question(version.sections[0].questions[3])
    assert _keys(_reload(version))[0][1] == ["greeted", "wait_s", "staff", "why"]


def test_update_settings(checklist):
    version = svc.draft_of(checklist)
    svc.update_settings(
        version, {"title": "Audit 2", "scoring": {"method": "pooled", "pass_mark": None}}
    )
    version = _reload(version)
    doc = svc.version_document(version)
    assert doc["title"] == "Audit 2" and "method" not in doc["scoring"]
    assert "pass_mark" not in doc["scoring"] and doc["scoring"]["bands"][0]["label"] == "Excellent"
    assert version.checklist.title == "Audit 2"
    with pytest.raises(svc.ChecklistInvalid):
        svc.update_settings(version, {"scoring": {"decimals": 7}})


# --- published versions are locked ---------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        lambda v: svc.add_section(v, {"title": "More"}),
        lambda v: svc.update_section(v.sections[0], {"title": "x"}),
        lambda v: svc.move_section(v.sections[0], 1),
        lambda v: svc.duplicate_section(v.sections[0]),
        lambda v: svc.delete_section(v.sections[1]),
        lambda v: svc.add_question(v.sections[0], {"text": "x"}),
        lambda v: svc.update_question(v.sections[0].questions[0], {"text": "x"}),
        lambda v: svc.move_question(v.sections[0].questions[0], 1),
        lambda v: svc.duplicate_question(v.sections[0].questions[0]),
        lambda v: svc.delete_question(v.sections[1].questions[0]),
        lambda v: svc.set_options(v.sections[0].questions[2], []),
        lambda v: svc.update_settings(v, {"title": "x"}),
        lambda v: svc.replace_document(v, SPEC),
        lambda v: svc.publish(v, None),
        lambda v: svc.discard_draft(v),
    ],
)
def test_services_refuse_to_change_a_published_version(checklist, admin, edit):
    version = svc.draft_of(checklist)
    svc.publish(version, admin)
    db.session.flush()

    with pytest.raises(ChecklistLocked) as caught:
        edit(version)

    assert caught.value.status_code == 409
    assert "published" in str(caught.value)
