"""The shopper's side of review: the amount spent and the receipt on the form, a
returned visit opening with the reviewer's notes and corrections, and the visit
carrying its current score from the submission."""

from decimal import Decimal
from io import BytesIO

from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, Evidence, ReviewNote
from auditapp.models.answers import VisitAnswer
from auditapp.models.waves import RETURNED, SUBMITTED
from auditapp.services.core import lifecycle
from auditapp.services.visits import form as service
from tests.conftest import login, page_text
from tests.web import evidence_images as pics
from tests.web.worlds.evidence import uploads as uploads  # noqa: F401 (an upload folder)
from tests.web.worlds.submission import GOOD, JSON, _submit
from tests.web.worlds.submission import world as world  # noqa: F401 (the submission tests' visit)
from tests.web.worlds.visit_form import post, reload

PAID = {"fee": Decimal("80"), "expense_cap": Decimal("50"), "purchase": "A coffee"}


def _pays_expenses(world):
    for name, value in PAID.items():
        setattr(world.visit.wave, name, value)
    db.session.commit()


def test_the_visit_takes_the_submissions_score_and_the_amount_spent(client, world):
    _pays_expenses(world)
    login(client, world.ann.user)
    assert _submit(client, world.visit, **GOOD, expense_claimed="35,50").status_code == 302
    visit = reload(world.visit)
    assert visit.status == SUBMITTED
    assert visit.expense_claimed == Decimal("35.50")
    submission = service.find_submission("sub-0000-0001")
    assert (visit.score, visit.result, visit.grade) == (
        submission.score,
        submission.result,
        submission.grade,
    )


def test_a_bad_amount_is_shown_beside_the_field_and_nothing_typed_is_lost(client, world):
    _pays_expenses(world)
    login(client, world.ann.user)
    refused = _submit(client, world.visit, JSON, **GOOD, expense_claimed="35.555")
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["expense_claimed"]
    page = _submit(client, world.visit, **GOOD, expense_claimed="lots")
    assert page.status_code == 422
    block = page.text[page.text.index('id="vf-expenses-title"') :]
    block = block[: block.index("</section>")]
    assert 'value="lots"' in block and "Enter the amount on the receipt" in block
    assert reload(world.visit).status != SUBMITTED


def test_the_expenses_card_appears_only_when_the_wave_pays_expenses(client, world):
    login(client, world.ann.user)
    form_url = f"/my/visits/{world.visit.id}/form"
    assert "Amount on the receipt" not in page_text(client.get(form_url).text)
    _pays_expenses(world)
    assert "Amount on the receipt" in page_text(client.get(form_url).text)


def test_a_receipt_chosen_without_javascript_is_stored_as_a_receipt(client, world, uploads):
    _pays_expenses(world)
    login(client, world.ann.user)
    response = post(
        client,
        f"/my/visits/{world.visit.id}/submit",
        None,
        submission_id="sub-receipt-01",
        action="submit",
        expense_claimed="12",
        receipt=(BytesIO(pics.png()), "receipt.png"),
        **GOOD,
    )
    assert response.status_code == 302
    kinds = db.session.scalars(
        select(Evidence.kind).where(Evidence.visit_id == world.visit.id)
    ).all()
    assert kinds == ["receipt"]


def _return(world, reviewer, note, question_notes=None):
    visit = reload(world.visit)
    db.session.add(ReviewNote(visit=visit, author=reviewer, text=note))
    for key, text in (question_notes or {}).items():
        db.session.add(ReviewNote(visit=visit, author=reviewer, question_key=key, text=text))
    lifecycle.move(visit, RETURNED, reviewer, note)
    db.session.commit()
    return visit


def test_a_returned_visit_shows_the_reviewers_notes_and_opens_with_corrections(
    client, world, make_user
):
    reviewer = make_user("rev.returns@example.com", "reviewer")
    login(client, world.ann.user)
    assert _submit(client, world.visit, **GOOD).status_code == 302
    # The reviewer corrected the wait before returning the visit.
    wait = db.session.scalars(
        select(VisitAnswer)
        .join(ChecklistQuestion, VisitAnswer.question_id == ChecklistQuestion.id)
        .where(VisitAnswer.visit_id == world.visit.id, ChecklistQuestion.key == "wait_s")
    ).one()
    wait.value = 20
    db.session.flush()
    _return(world, reviewer, "Please add the <b>staff</b> name.", {"staff": "Which person?"})

    show = client.get(f"/my/visits/{world.visit.id}")
    assert "Please add the <b>staff</b> name." in page_text(show.text)
    assert "<b>staff</b>" not in show.text  # escaped
    form = client.get(f"/my/visits/{world.visit.id}/form")
    assert form.status_code == 200
    text = page_text(form.text)
    assert "Returned for changes" in text and "Please add the <b>staff</b> name." in text
    staff = form.text[form.text.index('id="vq-staff"') : form.text.index('id="vq-why"')]
    assert "Which person?" in page_text(staff)
    wait_block = form.text[form.text.index('id="vq-wait_s"') : form.text.index('id="vq-staff"')]
    assert 'value="20"' in wait_block


def test_notes_of_an_earlier_return_are_not_shown_again(client, world, make_user):
    reviewer = make_user("rev.twice@example.com", "reviewer")
    login(client, world.ann.user)
    assert _submit(client, world.visit, **GOOD).status_code == 302
    _return(world, reviewer, "First round note")
    resubmitted = _submit(client, world.visit, submission_id="sub-0000-0002", **GOOD)
    assert resubmitted.status_code == 302
    _return(world, reviewer, "Second round note")
    text = page_text(client.get(f"/my/visits/{world.visit.id}/form").text)
    assert "Second round note" in text and "First round note" not in text
