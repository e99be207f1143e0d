"""The shopper's visit form without JavaScript, end to end: briefing, check-in, the form
built from the pinned checklist version, drafts, validation with nothing lost, submit
and the score the command line gives; plus who may reach it and whose clock it shows.

The world and the helpers that fill the retail starter's form are shared with the
submission, query count, integrity and hostile input tests: tests/web/worlds/visit_form.py."""

import html
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import select

import scoring
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion
from auditapp.models.answers import VisitAnswer, VisitComment, VisitDraft, VisitSubmission
from auditapp.models.waves import VisitEvent
from auditapp.services.checklists import versions as checklists
from tests.conftest import csrf_token, login
from tests.web import evidence_images
from tests.web.statuses import walk_to
from tests.web.worlds.visit_form import build_world, cli_score, post, reload, url, valid_fields


@pytest.fixture
def form_world(make_client, make_region, make_store, make_shopper):
    return build_world(make_client, make_region, make_store, make_shopper)


def expected_answers(photo_ids: list[str]) -> dict[str, Any]:
    """The same answers as SCORING.md §1 writes them, for `python -m scoring`."""
    return {
        "visit_date": "2031-05-04", "visit_time": "10:05", "storefront_photo": photo_ids,
        "greet_s": 12, "greet_smile": "yes", "spoken_to_15": "yes", "open_questions": "yes",
        "listening": "partly", "summarised": "no", "fit": "exact", "knowledge": 4,
        "objection": "na", "queue_min": Decimal("3.5"), "price_correct": "yes", "receipt": "yes",
        "thanked": "yes", "walked_out": "no", "clean": "yes", "display": "gaps",
        "price_tags": "yes", "promo": "yes", "signage": "no", "nps": 8,
        "comments": "Busy Saturday.",
    }  # fmt: skip


def photo_file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(evidence_images.png()), "front.png"


def question_block(page: str, key: str) -> str:
    """The markup of one question, from its wrapper to the next question's."""
    start = page.rindex("<div", 0, page.index(f'data-question-key="{key}"'))
    end = page.find('<div class="vq ', start + 20)
    return page[start : end if end > 0 else len(page)]


def shown(page: str, clock: str) -> bool:
    """Whether a time such as "10:05 AM" is on the page (Babel may use a narrow space)."""
    hours, rest = clock.split(" ")
    return re.search(rf"\b{hours}\W{{1,8}}{rest}", page) is not None


def checked(block: str) -> list[str]:
    return re.findall(r'<input checked[^>]*value="([^"]*)"', block)


def draft_attribute(page: str) -> dict[str, Any]:
    match = re.search(r"data-draft='([^']*)'", page)
    assert match
    return json.loads(html.unescape(match.group(1)))  # type: ignore[no-any-return]


# --- the flow --------------------------------------------------------------------------


def test_shopper_completes_a_visit_without_javascript(client, form_world, tmp_path):
    visit, ann = form_world.visit, form_world.ann
    login(client, ann.user)

    briefing = client.get(f"/my/visits/{visit.id}")
    assert briefing.status_code == 200
    for text in ("Ask for a winter coat.", "1 Bund Road", "uri.amap.com", "read the briefing"):
        assert text in briefing.text
    assert "Photo:" in briefing.text and "(required)" in briefing.text  # evidence to bring
    assert post(client, url(visit, "briefing")).status_code == 302
    assert reload(visit).briefing_read_at is not None
    assert "Briefing confirmed" in client.get(f"/my/visits/{visit.id}").text

    started = post(
        client, url(visit, "start"), consent="1", latitude="31.2304", longitude="121.4737",
        accuracy="12.4",
    )  # fmt: skip
    assert started.status_code == 302 and started.location.endswith(url(visit, "form"))
    visit = reload(visit)
    assert visit.status == "in_progress" and visit.started_at is not None
    assert visit.start_latitude == Decimal("31.2304")
    assert visit.start_longitude == Decimal("121.4737")
    assert visit.start_accuracy_m == 12
    events = db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("accepted", "in_progress")]

    page = client.get(url(visit, "form")).text
    assert f'data-draft-url="/my/visits/{visit.id}/draft"' in page
    assert '<div id="sync-banner" role="status" aria-live="polite" hidden></div>' in page
    assert re.search(r'name="submission_id" value="[0-9a-f-]{36}"', page)
    keys = [q.key for q in checklists.scoring_checklist(visit.checklist_version).questions()]
    for key in keys:
        assert f'data-question-key="{key}"' in page
    assert 'type="radio" value="yes"' in question_block(page, "greet_smile")
    assert 'type="number"' in question_block(page, "greet_s")
    assert 'data-stopwatch-for="q_greet_s" data-stopwatch-unit="s"' in page
    assert 'data-stopwatch-for="q_queue_min" data-stopwatch-unit="min"' in page
    assert 'type="date"' in question_block(page, "visit_date")
    assert 'type="time"' in question_block(page, "visit_time")
    assert 'type="file"' in question_block(page, "storefront_photo")
    assert 'value="10"' in question_block(page, "nps")  # 0..10 radios
    assert 'value="5"' in question_block(page, "knowledge")  # the 1..5 scale
    assert 'value="na"' in question_block(page, "objection")  # N/A where allowed
    assert "<textarea" in question_block(page, "comments")
    reason = question_block(page, "nps_reason")
    assert "data-show-if='{&#34;question&#34;: &#34;nps&#34;, &#34;lte&#34;: 6}'" in reason
    assert reason.split(">", 1)[0].endswith(" hidden")  # nps unanswered: condition false
    assert "Section 1 of 8" in page and 'id="section-greeting"' in page
    assert 'name="comment_greeting"' in page and 'name="comment_overall"' in page
    assert page.count('name="comment_overall"') == 1  # the "overall" section shares it

    # Save a draft (no JavaScript): reopening shows exactly what was typed.
    partial = {
        "q_greet_s": "12", "q_greet_smile": "yes", "q_listening": "partly",
        "q_nps": "3", "q_nps_reason": "Nobody helped.", "comment_greeting": "Li",
    }  # fmt: skip
    saved = post(client, url(visit, "draft"), action="save", **partial)
    assert saved.status_code == 302 and saved.location.endswith(url(visit, "form"))
    page = client.get(url(visit, "form")).text
    assert draft_attribute(page) == partial
    assert 'data-revision="1"' in page
    assert checked(question_block(page, "listening")) == ["partly"]
    assert 'value="12"' in question_block(page, "greet_s")
    assert "Nobody helped." in page
    assert " hidden" not in question_block(page, "nps_reason").split(">", 1)[0]  # nps 3 ≤ 6
    assert ">Li</textarea>" in page

    # Submit with a required question left out: 422, the error beside it, nothing lost.
    fields = valid_fields() | {"q_nps": "3", "q_nps_reason": "Nobody helped."}
    del fields["q_signage"]
    refused = post(client, url(visit, "submit"), action="submit", submission_id="first-try-001",
                   q_storefront_photo=photo_file(), **fields)  # fmt: skip
    assert refused.status_code == 422
    block = question_block(refused.text, "signage")
    assert "This question needs an answer." in block and "has-error" in block
    assert checked(question_block(refused.text, "listening")) == ["partly"]
    assert "Greeted by Li at the door.</textarea>" in refused.text
    assert "A good visit overall.</textarea>" in refused.text
    assert "Nobody helped." in refused.text
    assert "1 photo uploaded" in question_block(refused.text, "storefront_photo")  # kept
    assert db.session.scalars(select(VisitSubmission)).all() == []
    assert reload(visit).status == "in_progress"

    # Fixed and sent again: one submission, its answers, comments and the CLI's score.
    fields["q_signage"] = "no"
    done = post(client, url(visit, "submit"), action="submit", submission_id="second-try-002",
                **fields)  # fmt: skip
    assert done.status_code == 302 and done.location.endswith("/my/")
    visit = reload(visit)
    assert visit.status == "submitted" and visit.finished_at is not None
    (submission,) = db.session.scalars(select(VisitSubmission)).all()
    assert submission.client_submission_id == "second-try-002"
    assert db.session.get(VisitDraft, visit.id) is None
    photo_ids = submission.answers["storefront_photo"]
    assert len(photo_ids) == 1
    expected = expected_answers(photo_ids) | {"nps": 3, "nps_reason": "Nobody helped."}
    rows = db.session.execute(
        select(ChecklistQuestion.key, VisitAnswer.value)
        .join(ChecklistQuestion, VisitAnswer.question_id == ChecklistQuestion.id)
        .where(VisitAnswer.visit_id == visit.id)
    ).all()
    stored = dict(rows)
    assert stored == {k: float(v) if isinstance(v, Decimal) else v for k, v in expected.items()}
    comments = db.session.execute(
        select(VisitComment.section_key, VisitComment.text).where(VisitComment.visit_id == visit.id)
    ).all()
    assert dict(comments) == {"greeting": "Greeted by Li at the door.", "": "A good visit overall."}

    cli = cli_score(visit.checklist_version, expected, tmp_path)
    decimals = checklists.scoring_checklist(visit.checklist_version).scoring.decimals
    assert cli["score"] == scoring.round_half_up(Fraction(submission.score), decimals)
    assert (cli["result"], cli["grade"]) == (submission.result, submission.grade)
    assert {
        key: {name: None if v is None else Decimal(str(v)) for name, v in section.items()}
        for key, section in submission.sections.items()
    } == cli["sections"]
    events = db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)).all()
    assert [e.to_status for e in events] == ["in_progress", "submitted"]


# --- pieces of the flow ----------------------------------------------------------------


def test_start_without_consent_stores_no_location(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    post(client, url(visit, "start"), latitude="31.2", longitude="121.4", accuracy="5")
    visit = reload(visit)
    assert visit.started_at is not None and visit.status == "in_progress"
    assert (visit.start_latitude, visit.start_longitude, visit.start_accuracy_m) == (None,) * 3


def test_starting_twice_keeps_the_first_check_in(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    post(client, url(visit, "start"))
    first = reload(visit).started_at
    post(client, url(visit, "start"), consent="1", latitude="95", longitude="121.4")
    visit = reload(visit)
    assert visit.started_at == first
    assert visit.start_latitude is None  # 95° is not a latitude
    assert len(visit.events) == 1


def test_check_out_saves_what_was_typed(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    post(client, url(visit, "start"))
    post(client, url(visit, "finish"), action="finish", q_greet_s="40")
    visit = reload(visit)
    assert visit.finished_at is not None and visit.finished_at >= visit.started_at
    assert db.session.get(VisitDraft, visit.id).data == {"q_greet_s": "40"}


def test_form_page_links_the_briefing_until_it_is_confirmed(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    assert "You have not confirmed the briefing yet." in client.get(url(visit, "form")).text
    post(client, url(visit, "briefing"))
    assert "You have not confirmed the briefing yet." not in client.get(url(visit, "form")).text


def test_times_are_shown_in_the_store_time_zone(client, form_world):
    visit = form_world.visit
    visit.status, visit.started_at = "in_progress", datetime(2031, 5, 4, 2, 5, tzinfo=UTC)
    visit.briefing_read_at = datetime(2031, 5, 3, 23, 30, tzinfo=UTC)
    db.session.commit()
    login(client, form_world.ann.user)
    page = client.get(url(visit, "form")).text
    assert shown(page, "10:05 AM") and not shown(page, "2:05 AM")  # Shanghai, UTC+8
    assert shown(client.get(f"/my/visits/{visit.id}").text, "7:30 AM")  # 4 May, 07:30 store time
    form_world.store.timezone = "Asia/Tokyo"
    db.session.commit()
    assert shown(client.get(url(visit, "form")).text, "11:05 AM")


def test_json_draft_saves_and_ignores_a_stale_revision(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    token = csrf_token(client)

    def save(revision, data):
        return client.post(url(visit, "draft"), json={"revision": revision, "data": data},
                           headers={"X-CSRFToken": token})  # fmt: skip

    first = save(2, {"q_greet_s": "12", "q_multi": ["a", "b"]})
    assert first.status_code == 200 and first.json["revision"] == 2 and first.json["saved_at"]
    late = save(1, {"q_greet_s": "99"})
    assert late.status_code == 200 and late.json == {"revision": 2, "stale": True}
    same = save(2, {"q_greet_s": "98"})
    assert same.json == {"revision": 2, "stale": True}
    assert db.session.get(VisitDraft, visit.id).data == {"q_greet_s": "12", "q_multi": ["a", "b"]}
    assert save(3, {"q_greet_s": "13"}).json["revision"] == 3
    page = client.get(url(visit, "form")).text
    assert draft_attribute(page) == {"q_greet_s": "13"} and 'data-revision="3"' in page
    assert save("3", {}).status_code == 400
    assert save(4, {"q_greet_s": 12}).status_code == 400  # values are strings
    no_token = client.post(url(visit, "draft"), json={"revision": 9, "data": {}})
    assert no_token.status_code == 400 and db.session.get(VisitDraft, visit.id).revision == 3


def test_another_shopper_gets_404_on_every_route(client, form_world):
    visit = form_world.visit
    login(client, form_world.bob.user)
    assert client.get(url(visit, "form")).status_code == 404
    for action in ("briefing", "start", "draft", "finish", "submit"):
        assert post(client, url(visit, action), submission_id="bob-submission-1").status_code == 404
    assert reload(visit).started_at is None and reload(visit).briefing_read_at is None


def test_an_assigned_visit_must_be_accepted_first(client, form_world):
    visit = form_world.visit
    walk_to(visit, "assigned")
    db.session.commit()
    login(client, form_world.ann.user)
    assert client.get(url(visit, "form")).status_code == 302
    post(client, url(visit, "start"))
    assert reload(visit).started_at is None
