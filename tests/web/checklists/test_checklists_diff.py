"""Comparing two versions, in words a coordinator reads."""

import copy
from decimal import Decimal

from auditapp.extensions import db
from auditapp.services.checklists import versions as svc
from auditapp.services.checklists.diff import Change
from tests.web.worlds.checklists import SPEC


def _two_versions(make_client, make_user):
    user = make_user("diff@example.com", "admin")
    checklist = svc.create_checklist(make_client("DIF"), "", user, copy.deepcopy(SPEC))
    first = svc.draft_of(checklist)
    svc.publish(first, user)
    db.session.flush()
    second = svc.start_new_version(checklist, user)
    db.session.flush()
    return first, second


def test_identical_versions_have_no_changes(make_client, make_user):
    first, second = _two_versions(make_client, make_user)
    assert svc.diff_versions(first, second) == []


def test_changes_are_described_by_section_and_question(make_client, make_user):
    first, second = _two_versions(make_client, make_user)
    greeting, close = second.sections
    svc.update_settings(second, {"scoring": {"pass_mark": 75}})
    svc.update_section(greeting, {"weight": 50})
    svc.update_question(greeting.questions[0], {"critical": True, "weight": Decimal("2")})
    staff = greeting.questions[2]
    svc.set_options(
        staff,
        [
            {
                "value": "warm",
                "label": "Warm",
                "points": 3,
                "translations": {"zh": {"label": "热情"}},
            },
            {"value": "rude", "label": "Rude", "points": 0},
            {"value": "cold", "label": "Cold", "points": 0},
        ],
    )
    svc.update_question(greeting.questions[3], {"show_if": {"question": "staff", "in": ["cold"]}})
    svc.delete_question(close.questions[1])
    svc.add_question(close, {"key": "photo", "text": "Photo of the till", "type": "photo"})
    svc.move_question(close.questions[0], -1)  # "thanks" moves to the greeting section
    db.session.flush()

    changes = svc.diff_versions(first, second)

    q1 = "Greeting › Were you greeted within 30 seconds?"
    assert changes == [
        Change("changed", "Scoring", "pass_mark", 80, 75),
        Change("changed", "Greeting", "weight", 40, 50),
        Change("changed", q1, "weight", 1, 2),
        Change("changed", q1, "critical", False, True),
        Change("changed", "Greeting › Staff behaviour › Warm", "points", 2, 3),
        Change("added", "Greeting › Staff behaviour › Cold", None, None, changes[5].after),
        Change("removed", "Greeting › Staff behaviour › Neutral", None, changes[6].before),
        Change(
            "changed",
            "Greeting › Why?",
            "show_if",
            {"question": "staff", "in": ["rude"]},
            {"question": "staff", "in": ["cold"]},
        ),
        Change("changed", "Greeting › Thanked you?", "section", "Closing", "Greeting"),
        Change("added", "Closing › Photo of the till", None, None, changes[9].after),
        Change("removed", "Closing › Offered a loyalty card?", None, changes[10].before),
    ]
    assert changes[5].after == {"value": "cold", "label": "Cold"}
    assert changes[10].before["key"] == "extra"


def test_sections_added_removed_and_reordered(make_client, make_user):
    first, second = _two_versions(make_client, make_user)
    svc.update_question(second.sections[1].questions[2], {"show_if": None})
    svc.move_section(second.sections[1], -1)
    svc.add_section(second, {"key": "env", "title": "Environment", "weight": 10})
    db.session.flush()

    changes = svc.diff_versions(first, second)

    assert [(c.kind, c.path, c.field, c.before, c.after) for c in changes] == [
        ("changed", "Closing", "position", 2, 1),
        (
            "changed",
            "Closing › Overall",
            "show_if",
            {"question": "wait_s", "lte": Decimal("60.5")},
            None,
        ),
        ("changed", "Greeting", "position", 1, 2),
        ("added", "Environment", None, None, changes[3].after),
    ]
    removed = svc.diff_versions(second, first)
    assert ("removed", "Environment", None) in [(c.kind, c.path, c.field) for c in removed]


def test_long_question_texts_are_shortened_in_paths(make_client, make_user):
    first, second = _two_versions(make_client, make_user)
    svc.update_question(second.sections[0].questions[0], {"text": "Were you greeted " * 10})
    db.session.flush()
    change = svc.diff_versions(first, second)[0]
    assert change.field == "text"
    assert change.path.startswith("Greeting › Were you greeted") and change.path.endswith("…")
    assert len(change.path) <= len("Greeting › ") + 60
