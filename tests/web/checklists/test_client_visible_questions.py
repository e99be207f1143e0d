"""The client-visible option of a photo question belongs to the checklist document:
off by default (and then left out of exports), read and written by the JSON, YAML and
XLSX files, set in the builder's question editor, kept on the frozen published
version and in the scoring engine's checklist, where it changes no score."""

import copy

import pytest

import scoring
from auditapp.extensions import db
from auditapp.models import ChecklistLocked
from auditapp.services.checklists import files
from auditapp.services.checklists import versions as checklists
from tests.conftest import csrf_token, login

DOCUMENT = {
    "title": "Shelf audit",
    "sections": [
        {"key": "shelf", "title": "Shelf", "questions": [
            {"key": "stocked", "text": "Shelf full?", "type": "yes_no"},
            {"key": "shelf_photo", "text": "Photo of the shelf", "type": "photo",
             "client_visible": True},
            {"key": "queue_photo", "text": "Photo of the queue", "type": "photo"},
        ]},
    ],
}  # fmt: skip


def question(doc, key):
    return next(q for s in doc["sections"] for q in s["questions"] if q["key"] == key)


@pytest.fixture
def coordinator(make_client, make_user):
    client = make_client("VIS", name="Visible brand")
    user = make_user("coord.visible@example.com", "coordinator", clients=[client])
    db.session.commit()
    return client, user


@pytest.fixture
def draft(coordinator):
    client, user = coordinator
    checklist = checklists.create_checklist(client, "", user, DOCUMENT)
    db.session.commit()
    return checklists.draft_of(checklist)


def test_the_document_reads_the_option_and_writes_it_only_when_on():
    checklist = scoring.load_checklist(DOCUMENT)
    by_key = {q.key: q for q in checklist.questions()}
    assert by_key["shelf_photo"].client_visible is True
    assert by_key["queue_photo"].client_visible is False  # off unless asked for
    dumped = scoring.dump_checklist(checklist)
    assert question(dumped, "shelf_photo")["client_visible"] is True
    assert "client_visible" not in question(dumped, "queue_photo")
    broken = copy.deepcopy(DOCUMENT)
    question(broken, "queue_photo")["client_visible"] = "yes"
    with pytest.raises(scoring.ChecklistError, match="client_visible: must be true or false"):
        scoring.load_checklist(broken)


def test_it_changes_no_score():
    hidden = copy.deepcopy(DOCUMENT)
    question(hidden, "shelf_photo").pop("client_visible")
    answers = {"stocked": "yes", "shelf_photo": ["1"]}
    scores = [
        scoring.score_visit(scoring.load_checklist(doc), answers).score
        for doc in (DOCUMENT, hidden)
    ]
    assert scores[0] == scores[1] is not None


@pytest.mark.parametrize(
    ("export", "name"),
    [(files.export_json, "c.json"), (files.export_yaml, "c.yaml"), (files.export_xlsx, "c.xlsx")],
)
def test_files_keep_the_option_both_ways(draft, export, name):
    stored = checklists.version_document(draft)
    assert question(stored, "shelf_photo")["client_visible"] is True
    assert "client_visible" not in question(stored, "queue_photo")
    assert files.import_document(export(draft), name) == stored


def test_the_question_editor_sets_and_clears_it(client, draft, coordinator):
    login(client, coordinator[1])
    photo = next(q for q in draft.questions() if q.key == "queue_photo")
    url = f"/checklists/questions/{photo.id}/edit"
    form = client.get(url).text
    assert 'name="client_visible"' in form and 'data-types="photo"' in form
    for ticked in (True, False):
        data = {"csrf_token": csrf_token(client), "text": "Photo of the queue",
                "type": "photo", "key": "queue_photo"}  # fmt: skip
        if ticked:
            data["client_visible"] = "y"
        assert client.post(url, data=data).status_code == 302
        saved = question(checklists.version_document(draft), "queue_photo")
        assert saved.get("client_visible", False) is ticked
    # Only a photo question has photos to show: the box means nothing for the others.
    stocked = next(q for q in draft.questions() if q.key == "stocked")
    data = {"csrf_token": csrf_token(client), "text": "Shelf full?", "type": "yes_no",
            "key": "stocked", "client_visible": "y"}  # fmt: skip
    response = client.post(f"/checklists/questions/{stocked.id}/edit", data=data)
    assert response.status_code == 302
    assert "client_visible" not in question(checklists.version_document(draft), "stocked")


def test_the_published_version_keeps_it_frozen(draft, coordinator):
    version = checklists.publish(draft, coordinator[1])
    db.session.commit()
    assert question(checklists.version_document(version), "shelf_photo")["client_visible"]
    shelf = next(q for q in version.questions() if q.key == "shelf_photo")
    with pytest.raises(ChecklistLocked):
        shelf.client_visible = False
        db.session.flush()
