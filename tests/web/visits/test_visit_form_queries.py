"""The shopper's visit form stays cheap under a crowd: the statements one page and one
submission cost, and the per-process caches that make the page cheap.

Statements are counted as tests/conftest.py's ``count_queries`` counts them, in these
scenarios (the retail starter, published; SQLite):

- the form page of an in-progress visit with a draft, a photo and a receipt: 47
  statements at commit a9cc021 (the checklist version rebuilt from its rows on every
  load, options read one question at a time), 4 now;
- the page of a visit returned for changes, without a draft (its answers, comments
  and the reviewer's notes are read): 51 then, 7 now;
- the submission of three photos on two photo questions and a receipt, 24 answers and
  two comments, with the integrity checks (three flags): 131 then, 26 now with the
  checklist cache still cold (23 when a page load warmed it).

The pages are counted on their second load, the first having warmed the checklist
cache, as any page of a running process finds it; the submission on a cold cache.
"""

import io
import re
import threading
from dataclasses import FrozenInstanceError

import pytest
from sqlalchemy import select
from wtforms.widgets import ListWidget

from auditapp.extensions import db
from auditapp.models import ReviewNote
from auditapp.models.review import VisitFlag
from auditapp.models.waves import RETURNED
from auditapp.services.checklists import rows as checklists_rows
from auditapp.services.checklists import versions as checklists
from auditapp.services.core import lifecycle
from auditapp.views import visit_form as views
from forms.builder import build_form_class
from tests.conftest import count_queries, csrf_token, login
from tests.web import evidence_images
from tests.web.worlds.submission import _visit, _wave
from tests.web.worlds.visit_form import build_world, post, reload, url, valid_fields

PAGE_MOST = 8
SUBMIT_MOST = 30


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper):
    """The retail starter, published; Ann's accepted visit in a wave that pays expenses."""
    return build_world(make_client, make_region, make_store, make_shopper)


def _started(client, world):
    """Ann signed in, the visit checked in with a location, a draft saved."""
    login(client, world.ann.user)
    post(client, url(world.visit, "start"), consent="1", latitude="31.2304",
         longitude="121.4737", accuracy="12")  # fmt: skip
    post(client, url(world.visit, "draft"), action="save", q_greet_s="12", q_greet_smile="yes")


def _upload(client, visit, name, kind="photo", key=None):
    picture = evidence_images.encode(evidence_images.noise((64, 48)), "PNG")
    data = {"file": (io.BytesIO(picture), name), "kind": kind, "client_upload_id": f"up-{name}"}
    response = post(
        client, url(visit, "evidence"), **data, **({"question_key": key} if key else {})
    )
    assert response.status_code == 201, response.text


def _page_statements(app, client, visit) -> list[str]:
    form_url = url(visit, "form")
    assert client.get(form_url).status_code == 200  # warms the caches (and the session)
    with count_queries(app) as statements:
        page = client.get(form_url)
    assert page.status_code == 200 and 'id="visit-form"' in page.text
    return statements


def test_the_form_page_takes_few_statements(app, client, world):
    """Counted on the second load: the first one warms the checklist cache."""
    _started(client, world)
    _upload(client, world.visit, "front.png", key="storefront_photo")
    _upload(client, world.visit, "receipt.png", kind="receipt")
    statements = _page_statements(app, client, world.visit)
    assert len(statements) <= PAGE_MOST, "\n".join(statements)


def test_a_returned_visits_page_takes_few_statements(app, client, world, make_user):
    """The dearest page: no draft, so the answers and comments are read, and the
    reviewer's notes."""
    reviewer = make_user("rev.queries@example.com", "reviewer")
    _started(client, world)
    _upload(client, world.visit, "front.png", key="storefront_photo")
    done = post(client, url(world.visit, "submit"), action="submit",
                submission_id="sub-returned-01", **valid_fields())  # fmt: skip
    assert done.status_code == 302
    visit = reload(world.visit)
    db.session.add(ReviewNote(visit=visit, author=reviewer, question_key="nps", text="Why 8?"))
    lifecycle.move(visit, RETURNED, reviewer, "Please explain the score.")
    db.session.commit()
    statements = _page_statements(app, client, visit)
    assert len(statements) <= PAGE_MOST, "\n".join(statements)


def test_a_submission_takes_few_statements_with_the_integrity_checks(app, client, world):
    _started(client, world)
    _upload(client, world.visit, "front.png", key="storefront_photo")
    _upload(client, world.visit, "display.png", key="display_photo")
    _upload(client, world.visit, "display-2.png", key="display_photo")
    _upload(client, world.visit, "receipt.png", kind="receipt")
    submit_url, token = url(world.visit, "submit"), csrf_token(client)
    fields = valid_fields() | {"expense_claimed": "12.50"}
    with count_queries(app) as statements:
        done = client.post(submit_url, data={
            "csrf_token": token, "action": "submit", "submission_id": "sub-count-0001", **fields,
        })  # fmt: skip
    assert done.status_code == 302, done.text
    visit = reload(world.visit)
    assert visit.status == "submitted" and visit.integrity_score is not None  # checks ran
    flags = db.session.scalars(select(VisitFlag).where(VisitFlag.visit_id == visit.id)).all()
    assert visit.integrity_score == max(0, 100 - sum(f.penalty for f in flags))
    assert len(statements) <= SUBMIT_MOST, "\n".join(statements)


# --- the checklist cache ------------------------------------------------------------------


def test_a_published_version_is_built_once_and_cannot_be_changed(world):
    first = checklists.scoring_checklist(world.version)
    db.session.expire_all()  # as in the next request
    assert checklists.scoring_checklist(reload_version(world.version)) is first
    with pytest.raises(FrozenInstanceError):
        first.title = "Changed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        first.sections[0].questions[0].text = "Changed"  # type: ignore[misc]
    ids = checklists_rows.question_ids(world.version)
    with pytest.raises(TypeError):
        ids["greet_s"] = 0  # type: ignore[index]


def reload_version(version):
    found = db.session.get(type(version), version.id)
    assert found is not None
    return found


def test_a_draft_is_never_served_from_the_cache(world):
    draft = checklists.start_new_version(world.version.checklist, None)
    db.session.flush()
    before = checklists.scoring_checklist(draft)
    question = next(q for q in draft.questions() if q.key == "greet_s")
    checklists.update_question(question, {**checklists_rows.question_doc(question),
                                          "text": "Seconds before anyone spoke"})  # fmt: skip
    db.session.flush()
    after = checklists.scoring_checklist(draft)
    assert after is not before
    assert next(q for q in after.questions() if q.key == "greet_s").text == (
        "Seconds before anyone spoke"
    )


def test_a_version_published_in_this_session_is_kept_only_once_stored(world):
    draft = checklists.start_new_version(world.version.checklist, None)
    db.session.flush()
    checklists.publish(draft, None)
    assert checklists.scoring_checklist(draft) is not checklists.scoring_checklist(draft)
    db.session.commit()
    assert checklists.scoring_checklist(draft) is checklists.scoring_checklist(draft)


def test_the_cache_keeps_at_most_its_size(world, monkeypatch):
    monkeypatch.setattr(checklists_rows._CACHE, "size", 1)
    kept = checklists.scoring_checklist(world.version)
    assert checklists.scoring_checklist(world.version) is kept
    draft = checklists.start_new_version(world.version.checklist, None)
    db.session.flush()
    checklists.publish(draft, None)
    db.session.commit()
    checklists.scoring_checklist(draft)  # takes the only place
    assert checklists.scoring_checklist(world.version) is not kept


def test_threads_share_one_form_class(world):
    checklist = checklists.scoring_checklist(world.version)
    found, start = [], threading.Barrier(8)

    def build() -> None:
        start.wait()
        found.append(
            checklists_rows.derived(checklist, "form", lambda: build_form_class(checklist))
        )

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(cls) for cls in found}) == 1


# --- markup kept between pages ------------------------------------------------------------


def test_kept_choices_render_as_wtforms_does(world):
    checklist = checklists.scoring_checklist(world.version)
    form_class = build_form_class(checklist)
    plain = ListWidget(prefix_label=False)
    for data in ({}, {"q_listening": "partly", "q_greet_smile": "no"}, {"q_objection": "na"}):
        for _round in range(2):  # made, then kept
            form = form_class(data=data)
            for name in ("q_listening", "q_greet_smile", "q_objection", "q_nps"):
                field = form[name]
                assert str(field()) == str(plain(field, **field.render_kw))


def _normalised(page: str) -> str:
    """The page without what differs on every load (tokens, the submission id)."""
    page = re.sub(r'(name="csrf_token" value=|name="csrf-token" content=)"[^"]+"', r"\1", page)
    return re.sub(r'name="submission_id" value="[^"]+"', "", page)


KEPT_DOC = {
    "title": "Kept blocks",
    "sections": [{"key": "main", "title": "Main", "questions": [
        {"key": "greeted", "text": "Greeted?", "type": "yes_no", "na_allowed": True},
        {"key": "wait_s", "text": "Seconds to first contact", "type": "number",
         "na_allowed": True, "min": 0, "max": 600, "bands": [{"max": 30, "points": 1},
                                                             {"points": 0}]},
        {"key": "staff", "text": "Staff", "type": "choice", "options": [
            {"value": "warm", "label": "Warm", "points": 1},
            {"value": "rude", "label": "Rude", "points": 0}]},
        {"key": "why", "text": "Why?", "type": "text",
         "show_if": {"question": "staff", "in": ["rude"]}},
        {"key": "extras", "text": "Offered", "type": "multi", "options": [
            {"value": "bag", "label": "A bag", "points": 1},
            {"value": "card", "label": "A card", "points": 1}]},
        {"key": "front", "text": "Photo of the front", "type": "photo"},
    ]}],
}  # fmt: skip


def test_kept_question_blocks_are_the_blocks_made_afresh(client, world, monkeypatch):
    checklist = checklists.create_checklist(world.client, "", None, KEPT_DOC)
    version = checklists.publish(checklist.versions[0], None)
    wave = _wave(world.client, world.store, version)
    visit = _visit(wave, world.store, world.ann, 5)
    db.session.commit()
    login(client, world.ann.user)
    form_url = url(visit, "form")
    drafts = [
        {"na_wait_s": "y", "q_extras": ["bag", "card"], "q_greeted": "yes"},
        {"q_extras": "bag", "q_greeted": "no", "q_staff": "rude"},  # "why" shown
        {"q_extras": ["bag", "card"], "q_greeted": "yes", "q_staff": "warm"},  # hidden
        {"na_wait_s": "on", "q_staff": "rude", "q_why": "Slow."},
    ]
    for number, draft in enumerate(drafts):
        if number == 2:
            _upload(client, visit, "front.png", key="front")
        post(client, url(visit, "draft"), action="save", **draft)
        client.get(form_url)  # shows the "Draft saved." message once
        kept = _normalised(client.get(form_url).text)
        monkeypatch.setattr(views, "_question_blocks", lambda *_args: {})
        fresh = _normalised(client.get(form_url).text)
        monkeypatch.undo()
        assert kept == fresh


def test_kept_markup_follows_the_page_language(client, world):
    _started(client, world)
    form_url = url(world.visit, "form")
    english = client.get(form_url, headers={"Accept-Language": "en"}).text
    client.post("/language", data={"locale": "zh_Hans", "next": "/",
                                   "csrf_token": csrf_token(client)})  # fmt: skip
    chinese = client.get(form_url).text
    assert "All changes saved" in english and "All changes saved" not in chinese
    assert "Not applicable" in english and "Not applicable" not in chinese
