"""The database-level backstop: whatever code path tries, nothing under a published
version changes (the services' own refusals are tested in test_checklists_services)."""

import copy
from decimal import Decimal

import pytest

from auditapp.extensions import db
from auditapp.models import (
    ChecklistLocked,
    ChecklistOption,
    ChecklistQuestion,
    ChecklistSection,
)
from auditapp.services.checklists import versions as svc
from tests.web.worlds.checklists import SPEC


@pytest.fixture
def published(make_client, make_user):
    user = make_user("pub@example.com", "admin")
    checklist = svc.create_checklist(make_client("PUB"), "", user, copy.deepcopy(SPEC))
    version = svc.draft_of(checklist)
    db.session.flush()
    svc.publish(version, user)
    db.session.flush()
    return version


def _refused(change):
    savepoint = db.session.begin_nested()
    change()
    with pytest.raises(ChecklistLocked):
        db.session.flush()
    savepoint.rollback()


def test_publishing_itself_is_allowed_and_stored(published):
    db.session.expire_all()
    assert published.status == "published"
    assert published.published_at is not None


def test_changing_a_published_question_is_refused(published):
    question = published.sections[0].questions[0]
    _refused(lambda: setattr(question, "text", "Changed behind the service's back"))


def test_changing_a_published_version_is_refused(published):
    _refused(lambda: setattr(published, "pass_mark", Decimal("10")))


def test_unpublishing_is_refused(published):
    _refused(lambda: setattr(published, "status", "draft"))


def test_changing_an_option_or_section_is_refused(published):
    option = published.sections[0].questions[2].options[0]
    _refused(lambda: setattr(option, "points", Decimal("9")))
    section = published.sections[0]
    _refused(lambda: setattr(section, "weight", Decimal("1")))


def test_deleting_anything_under_a_published_version_is_refused(published):
    _refused(lambda: db.session.delete(published.sections[0].questions[2].options[0]))
    _refused(lambda: db.session.delete(published.sections[1].questions[0]))
    _refused(lambda: db.session.delete(published.sections[1]))
    _refused(lambda: db.session.delete(published))


def test_adding_rows_to_a_published_version_is_refused(published):
    section = published.sections[0]
    _refused(lambda: section.questions.append(_question(published)))
    _refused(lambda: published.sections.append(ChecklistSection(key="new", title="New")))
    question = section.questions[2]
    _refused(lambda: question.options.append(ChecklistOption(value="x", label="X")))


def test_drafts_can_be_changed_directly(published):
    draft = svc.start_new_version(published.checklist, None)
    db.session.flush()
    draft.sections[0].questions[0].text = "Fine in a draft"
    db.session.delete(draft.sections[0].questions[2].options[0])
    db.session.flush()
    db.session.expire_all()
    assert draft.sections[0].questions[0].text == "Fine in a draft"
    assert published.sections[0].questions[0].text != "Fine in a draft"
    assert len(published.sections[0].questions[2].options) == 3


def _question(version):
    return ChecklistQuestion(version=version, key="new", text="New", type="yes_no")
