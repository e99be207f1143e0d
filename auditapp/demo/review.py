"""Demo review: the demo reviewer has worked through the previous wave and the
coordinator has paid part of it, all through the real services.

- Previous wave: nearly every visit approved (so it has results and pay lines); one
  in seven first had an answer corrected with a reason (never one of a calibration
  pair: their agreement is the shoppers'); one in ten was returned with
  notes, sent again by its shopper and then approved. The demo shopper's own visit
  is returned and waiting for them, so their home shows what a return looks like.
- Running wave: its submitted visits wait in the review queue (some carry the
  integrity flags demo/visits.py provoked); the first one is in review by the
  demo reviewer.
- Pay: the second client's previous wave is in a payment run marked paid; the first
  client's is in a run not yet paid.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from forms.builder import field_name

from ..extensions import db
from ..models import Client, User, utcnow
from ..models.waves import SUBMITTED, Visit, Wave
from ..services.checklists.versions import scoring_checklist
from ..services.pay import ledger as pay
from ..services.review import decisions as review
from ..services.visits import form as visit_form
from ..services.visits.answers import stored_answers

EDIT_EVERY = 7
RETURN_EVERY = 10
RETURN_NOTE = (
    "The storefront photo is blurred; please upload a sharper one and check the queue time.\n"
    "门头照片模糊，请重新上传清晰的照片，并核对排队时间。"
)
EDIT_REASON = (
    "The photo shows no one at the entrance when the shopper arrived.\n"
    "照片显示顾客到店时门口无人迎接。"
)


def review_demo(
    reviewer: User, coordinator: User, demo_shopper: User, clients: list[Client]
) -> None:
    with services_at_work():
        for client in clients:
            previous, running = _waves(client)
            _review_previous(previous, reviewer, demo_shopper)
            _start_one(running, reviewer)
        db.session.flush()
        for number, client in enumerate(clients):
            run = pay.create_run(client, coordinator)
            if number % 2:
                pay.mark_paid(run, coordinator, f"DEMO-{client.code}-001")
        db.session.flush()


@contextmanager
def services_at_work() -> Iterator[None]:
    """What the services need from the command line: a request at the site's address
    (BASE_URL, which mail links are built from) for the links they keep; mail is
    delivered in line, as a background thread would wait on the demo's writes."""
    jobs_mode = current_app.config.get("JOBS_MODE")
    current_app.config["JOBS_MODE"] = "inline"
    try:
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            yield
    finally:
        current_app.config["JOBS_MODE"] = jobs_mode


def _waves(client: Client) -> tuple[Wave, Wave]:
    waves = db.session.scalars(
        select(Wave).where(Wave.client_id == client.id).order_by(Wave.starts_on)
    ).all()
    return waves[0], waves[-1]


def _submitted(wave: Wave) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.wave_id == wave.id, Visit.status == SUBMITTED)
            .order_by(Visit.window_start, Visit.id)
        )
    )


def _review_previous(wave: Wave, reviewer: User, demo_shopper: User) -> None:
    # Calibration pairs keep the answers the two shoppers gave, so the checklist page's
    # agreement measures the questions, not the review.
    paired = {(v.store_id, v.window_start) for v in wave.visits if v.calibration}
    for index, visit in enumerate(_submitted(wave)):
        assert visit.shopper is not None
        if visit.shopper.user_id == demo_shopper.id:
            review.return_visit(visit, reviewer, RETURN_NOTE, {})
            continue
        if index % RETURN_EVERY == RETURN_EVERY - 1:
            review.return_visit(visit, reviewer, RETURN_NOTE, {})
            _send_again(visit)
        elif index % EDIT_EVERY == EDIT_EVERY - 1 and (
            (visit.store_id, visit.window_start) not in paired
        ):
            _correct_one_answer(visit, reviewer)
        review.approve(visit, reviewer)
        _date_approval(visit)


def _send_again(visit: Visit) -> None:
    """The shopper opens the returned visit and sends it again as it is."""
    assert visit.shopper is not None
    fields = visit_form.draft_answers(visit)
    db.session.flush()
    user = visit.shopper.user
    visit_form.submit(visit, user, f"demo-resubmission-{visit.id}", fields, None)


def _correct_one_answer(visit: Visit, reviewer: User) -> None:
    """Turns the first "yes" of a plain yes/no question into "no", with a reason."""
    checklist = scoring_checklist(visit.checklist_version)
    answers = {key: row.value for key, row in stored_answers(visit).items()}
    for question in checklist.questions():
        plain = question.type == "yes_no" and not question.options and not question.critical
        if plain and answers.get(question.key) == "yes":
            fields = {field_name(question.key): "no"}
            review.edit_answer(visit, reviewer, question.key, fields, EDIT_REASON)
            return


def _date_approval(visit: Visit) -> None:
    """Approved the day after it was checked out, as a reviewer would."""
    done = visit.finished_at or visit.window_end
    approved: datetime = min(done + timedelta(days=1), utcnow())
    visit.approved_at = approved
    visit.events[-1].at = approved


def _start_one(wave: Wave, reviewer: User) -> None:
    waiting = _submitted(wave)
    if waiting:
        review.start_review(waiting[0], reviewer)
