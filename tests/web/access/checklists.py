"""Checklists are agency work: admins and the coordinators of the checklist's client
build them; everyone else gets 404. The list, new, starter and import pages belong to
every coordinator (each sees and creates only within their own clients).

The objects are made on first use and kept on the cast: client X's checklist with a
published version 1 and a draft version 2. Read-only routes aim at version 1, editing
routes at the draft."""

from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.services.checklists import versions as checklists

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, Route

OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X})
COORDINATORS = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y})
DOCUMENT = {
    "title": "Access audit",
    "sections": [
        {"key": "s1", "title": "First", "questions": [
            {"key": "a", "text": "A?", "type": "yes_no"},
            {"key": "b", "text": "B?", "type": "yes_no"},
        ]},
        {"key": "s2", "title": "Second", "questions": [
            {"key": "c", "text": "C?", "type": "yes_no"},
        ]},
    ],
}  # fmt: skip


def _objects(cast: Any) -> SimpleNamespace:
    found = getattr(cast, "_checklists", None)
    if found is None:
        coordinator = cast.users[COORDINATOR_X]
        checklist = checklists.create_checklist(cast.client_x, "", coordinator, DOCUMENT)
        db.session.flush()
        published = checklists.draft_of(checklist)
        checklists.publish(published, coordinator)
        db.session.flush()
        draft = checklists.start_new_version(checklist, coordinator)
        db.session.commit()  # survives a view's rollback between GET and POST
        found = SimpleNamespace(checklist=checklist, published=published, draft=draft)
        cast._checklists = found
    return found


def _checklist(endpoint: str, **kw: Any) -> Any:
    return lambda c: url_for(endpoint, checklist_id=_objects(c).checklist.id, **kw)


def _published(endpoint: str, **kw: Any) -> Any:
    return lambda c: url_for(endpoint, version_id=_objects(c).published.id, **kw)


def _draft(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, version_id=_objects(c).draft.id)


def _section(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, section_id=_objects(c).draft.sections[0].id)


def _question(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, question_id=_objects(c).draft.sections[0].questions[1].id)


def _form(**fields: str) -> Any:
    return lambda _c: fields


ACCESS = {
    "checklists.index": Route(lambda c: url_for("checklists.index"), COORDINATORS),
    "checklists.create": Route(
        lambda c: url_for("checklists.create"),
        COORDINATORS,
        ("POST",),
        lambda c: {"new-client_id": str(c.client_x.id), "new-title": "New"},
    ),
    "checklists.copy_starter": Route(
        lambda c: url_for("checklists.copy_starter"), COORDINATORS, ("POST",)
    ),
    "checklists.import_file": Route(
        lambda c: url_for("checklists.import_file"), COORDINATORS, ("GET", "POST")
    ),
    "checklists.show": Route(_checklist("checklists.show"), OF_CLIENT_X),
    "checklists.new_version": Route(_checklist("checklists.new_version"), OF_CLIENT_X, ("POST",)),
    "checklists.diff": Route(_checklist("checklists.diff"), OF_CLIENT_X),
    "checklists.export": Route(_published("checklists.export", fmt="json"), OF_CLIENT_X),
    "checklists.version": Route(_published("checklists.version"), OF_CLIENT_X),
    "checklists.preview": Route(_published("checklists.preview"), OF_CLIENT_X, ("GET", "POST")),
    "checklists.preview_score": Route(
        _published("checklists.preview_score"), OF_CLIENT_X, ("POST",), _form(q_a="yes")
    ),
    "checklists.settings": Route(
        _draft("checklists.settings"),
        OF_CLIENT_X,
        ("POST",),
        _form(**{"settings-title": "Renamed", "settings-decimals": "1"}),
    ),
    "checklists.add_section": Route(
        _draft("checklists.add_section"),
        OF_CLIENT_X,
        ("POST",),
        _form(**{"section-title": "Third"}),
    ),
    "checklists.publish": Route(_draft("checklists.publish"), OF_CLIENT_X, ("POST",)),
    "checklists.edit_section": Route(
        _section("checklists.edit_section"), OF_CLIENT_X, ("GET", "POST"), _form(title="First!")
    ),
    "checklists.move_section": Route(
        _section("checklists.move_section"), OF_CLIENT_X, ("POST",), _form(direction="down")
    ),
    "checklists.duplicate_section": Route(
        _section("checklists.duplicate_section"), OF_CLIENT_X, ("POST",)
    ),
    "checklists.delete_section": Route(
        _section("checklists.delete_section"), OF_CLIENT_X, ("POST",)
    ),
    "checklists.add_question": Route(
        _section("checklists.add_question"),
        OF_CLIENT_X,
        ("GET", "POST"),
        _form(text="D?", type="yes_no"),
    ),
    "checklists.edit_question": Route(
        _question("checklists.edit_question"),
        OF_CLIENT_X,
        ("GET", "POST"),
        _form(text="B again?", type="yes_no", key="b"),
    ),
    "checklists.move_question": Route(
        _question("checklists.move_question"), OF_CLIENT_X, ("POST",), _form(direction="up")
    ),
    "checklists.duplicate_question": Route(
        _question("checklists.duplicate_question"), OF_CLIENT_X, ("POST",)
    ),
    "checklists.delete_question": Route(
        _question("checklists.delete_question"), OF_CLIENT_X, ("POST",)
    ),
}
