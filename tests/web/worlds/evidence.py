"""The evidence world, shared by the evidence, file sweep and returned visit tests: an
upload folder of the test's own, a shopper's visit in progress with a photo question,
and the form script's upload."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from auditapp.extensions import db
from auditapp.models import Evidence, VisitAnswer, VisitComment, VisitDraft, utcnow
from auditapp.models.waves import IN_PROGRESS
from auditapp.services.checklists import editing as checklists_editing
from tests.conftest import csrf_token, login
from tests.web.access.my_visits import make_visit, make_wave


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Each test gets its own upload folder, so leftovers are easy to see."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def world(uploads, make_client, make_region, make_store, make_shopper, make_user):
    client = make_client("X", name="Client X")
    region = make_region(client, "NORTH")
    store = make_store(client, region, "XN1")  # Asia/Shanghai
    shopper = make_shopper("shopper.a@example.com")
    other = make_shopper("shopper.b@example.com")
    wave = make_wave(client, [store])
    section = wave.checklist_version.sections[0]
    photo_q = checklists_editing.add_question(
        section, {"key": "shelf_photo", "text": "Photo of the shelf", "type": "photo"}
    )
    greeting = checklists_editing.add_question(
        section, {"key": "greeted", "text": "Were you greeted?", "type": "yes_no"}
    )
    start = utcnow().replace(microsecond=0) - timedelta(hours=2)
    visit = make_visit(wave, store, start, shopper=shopper, status=IN_PROGRESS)
    db.session.add_all(
        [
            VisitDraft(visit=visit, data={"greeted": "yes", "comment": "Warm"}, revision=3),
            VisitAnswer(visit=visit, question=greeting, value="yes"),
            VisitComment(visit_id=visit.id, section_key="", text="Friendly staff"),
        ]
    )
    db.session.commit()  # a refused upload's rollback must not undo the set-up
    return type(
        "World",
        (),
        {
            "client": client,
            "store": store,
            "shopper": shopper,
            "other": other,
            "wave": wave,
            "visit": visit,
            "photo_q": photo_q,
            "make_user": make_user,
        },
    )


def _post(client, visit, data, name="photo.jpg", upload_id="u1", kind="photo", **fields):
    """What the form's script sends: one file, its upload id, the CSRF header."""
    token = csrf_token(client)
    form = {"file": FileStorage(io.BytesIO(data), filename=name), "client_upload_id": upload_id}
    form.update({"kind": kind, **{k: v for k, v in fields.items() if v is not None}})
    # Encoded here, in memory: the test client would spool a big body to a temp file
    # that it never closes.
    boundary, body = encode_multipart(form)
    return client.post(
        f"/my/visits/{visit.id}/evidence",
        data=body,
        headers={"X-CSRFToken": token},
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )


def _as_shopper(client, world):
    return login(client, world.shopper.user)


def _rows(visit):
    return db.session.scalars(select(Evidence).where(Evidence.visit_id == visit.id)).all()
