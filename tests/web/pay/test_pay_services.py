"""Shopper pay, the rules: what a pay line pays (fee plus receipted expenses up to the
wave's cap), which lines a payment run takes (pending lines of its client only, never
a line twice), "mark paid" once, and a paid run staying as it is."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auditapp.errors import DomainError
from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.pay import PayLine, PaymentRun
from auditapp.services.pay import ledger as pay
from tests.web.access import COORDINATOR_X
from tests.web.access._cast import build_cast
from tests.web.access.my_visits import make_visit, make_wave
from tests.web.access.payments import approved_line, make_receipt, make_run
from tests.web.statuses import walk_to

D = Decimal


@pytest.fixture
def cast(make_client, make_region, make_store, make_user, make_shopper):
    return build_cast(make_client, make_region, make_store, make_user, make_shopper)


@pytest.fixture
def world(cast):
    """Client X's wave pays 50 plus expenses up to 30; client Y's pays 40 plus up to 10."""
    cast.wave_x = make_wave(cast.client_x, [cast.store_north], fee=D("50"), expense_cap=D("30"))
    cast.wave_y = make_wave(
        cast.client_y, [cast.store_y], fee=D("40"), expense_cap=D("10"), currency="USD"
    )
    cast.start = utcnow().replace(microsecond=0) - timedelta(days=20)
    cast.days = 0
    return cast


def line(world, client="x", shopper=None, claimed=None, receipt=False) -> PayLine:
    """One more approved visit of the client, on a day of its own."""
    world.days += 1
    wave, store = (
        (world.wave_x, world.store_north) if client == "x" else (world.wave_y, world.store_y)
    )
    start = world.start + timedelta(days=world.days)
    return approved_line(wave, store, shopper or world.shopper_a, start, claimed, receipt)


def coordinator(world):
    return world.users[COORDINATOR_X]


# --- the pay line ------------------------------------------------------------------------


def test_expenses_are_capped_at_the_waves_cap(world):
    made = line(world, claimed="80", receipt=True)
    assert (made.fee, made.expenses_claimed, made.expenses_paid) == (D("50"), D("80"), D("30"))
    assert made.total == D("80") == made.fee + made.expenses_paid
    assert made.currency == "CNY"
    assert made.receipt_id is not None
    assert pay.expense_reason(made) == pay.CAPPED


def test_no_expenses_are_paid_without_a_receipt(world):
    made = line(world, claimed="20", receipt=False)
    assert (made.expenses_claimed, made.expenses_paid, made.total) == (D("20"), D("0"), D("50"))
    assert made.receipt_id is None
    assert pay.expense_reason(made) == pay.NO_RECEIPT


def test_a_receipted_claim_under_the_cap_is_paid_in_full(world):
    made = line(world, claimed="12.35", receipt=True)
    assert (made.expenses_paid, made.total) == (D("12.35"), D("62.35"))
    assert pay.expense_reason(made) is None


@pytest.mark.parametrize(
    ("fee", "claimed", "total"), [("80", "10.21", "90.21"), ("0.10", "0.20", "0.30")]
)
def test_cents_that_binary_floating_point_cannot_hold_still_add_up(world, fee, claimed, total):
    """SQLite stores NUMERIC as a float, where 80 + 10.21 is not 90.21: the database's
    check must still accept the line (it compares to the half cent)."""
    world.wave_x.fee = D(fee)
    made = line(world, claimed=claimed, receipt=True)
    db.session.flush()
    db.session.expire(made)
    assert made.total == D(total)


def test_nothing_claimed_pays_the_fee(world):
    made = line(world, receipt=True)
    assert (made.expenses_claimed, made.expenses_paid, made.total) == (D("0"), D("0"), D("50"))
    assert pay.expense_reason(made) is None


def test_a_wave_without_expenses_pays_none_even_with_a_receipt(world):
    world.wave_x.expense_cap = D("0")
    made = line(world, claimed="15", receipt=True)
    assert (made.expenses_paid, made.total) == (D("0"), D("50"))
    assert pay.expense_reason(made) == pay.CAPPED


def test_the_latest_receipt_is_the_one_kept(world):
    visit = make_visit(world.wave_x, world.store_north, world.start, shopper=world.shopper_a)
    make_receipt(visit, "first.jpg")
    second = make_receipt(visit, "second.jpg")
    visit.expense_claimed = D("5")
    walk_to(visit, "approved")
    assert pay.record_pay_line(visit).receipt_id == second.id


def test_the_database_refuses_a_total_that_does_not_add_up(world):
    made = line(world, claimed="10", receipt=True)
    made.total = D("999")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_the_database_refuses_paying_more_than_claimed(world):
    made = line(world, claimed="10", receipt=True)
    made.expenses_paid, made.total = D("11"), D("61")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


# --- payment runs ----------------------------------------------------------------------


def _run_ids() -> list[int]:
    return list(db.session.scalars(select(PaymentRun.id)))


def test_a_run_takes_every_pending_line_of_its_client_only(world):
    a, b = line(world, claimed="10", receipt=True), line(world, shopper=world.shopper_b)
    other_client = line(world, client="y")
    already = line(world)
    earlier = make_run([already], coordinator(world))
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    assert {x.id for x in run.lines} == {a.id, b.id}
    assert run.client_id == world.client_x.id
    assert run.created_by_id == coordinator(world).id and run.paid_at is None
    db.session.refresh(other_client)
    db.session.refresh(already)
    assert other_client.run_id is None
    assert already.run_id == earlier.id


def test_a_run_of_nothing_is_refused_and_leaves_no_run(world):
    line(world, client="y")
    before = _run_ids()
    with pytest.raises(pay.NothingToPay):
        pay.create_run(world.client_x, coordinator(world))
    db.session.rollback()
    assert _run_ids() == before


def test_a_line_is_never_taken_twice(world):
    first_line = line(world)
    first = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    with pytest.raises(pay.NothingToPay):
        pay.create_run(world.client_x, coordinator(world))
    db.session.rollback()
    with pytest.raises(pay.NothingToPay):
        pay.create_run(world.client_x, coordinator(world), [first_line.id])
    db.session.rollback()
    db.session.refresh(first_line)
    assert first_line.run_id == first.id
    assert _run_ids() == [first.id]


def test_a_choice_of_lines_takes_exactly_those(world):
    a, b, c = line(world), line(world), line(world)
    run = pay.create_run(world.client_x, coordinator(world), [a.id, c.id])
    db.session.flush()
    assert [x.id for x in run.lines] == [a.id, c.id]
    db.session.refresh(b)
    assert b.run_id is None


def test_a_choice_with_a_taken_line_changes_nothing(world):
    a, b = line(world), line(world)
    earlier = make_run([b], coordinator(world))
    before = _run_ids()
    with pytest.raises(pay.LinesTaken, match="Only 1 of the 2"):
        pay.create_run(world.client_x, coordinator(world), [a.id, b.id])
    db.session.rollback()
    assert _run_ids() == before
    assert db.session.get(PayLine, a.id).run_id is None
    assert db.session.get(PayLine, b.id).run_id == earlier.id


def test_a_choice_cannot_reach_another_clients_line(world):
    mine, theirs = line(world), line(world, client="y")
    with pytest.raises(pay.LinesTaken):
        pay.create_run(world.client_x, coordinator(world), [mine.id, theirs.id])
    db.session.rollback()
    assert db.session.get(PayLine, theirs.id).run_id is None
    with pytest.raises(pay.NothingToPay):
        pay.create_run(world.client_x, coordinator(world), [])


def test_all_lines_of_one_wave(world):
    in_wave = line(world)
    other_wave = make_wave(world.client_x, [world.store_north], name="Other", fee=D("70"))
    elsewhere = approved_line(
        other_wave, world.store_north, world.shopper_b, world.start - timedelta(days=3)
    )
    run = pay.create_run(world.client_x, coordinator(world), wave_id=world.wave_x.id)
    db.session.flush()
    assert [x.id for x in run.lines] == [in_wave.id]
    assert db.session.get(PayLine, elsewhere.id).run_id is None


def test_mark_paid_once(world):
    made = line(world)
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    paid = pay.mark_paid(run, coordinator(world), "  BANK   42 ")
    assert paid.paid_at is not None
    assert paid.paid_by_id == coordinator(world).id
    assert paid.reference == "BANK 42"
    assert pay.line_status(db.session.get(PayLine, made.id)) == pay.PAID
    when = paid.paid_at
    with pytest.raises(pay.RunPaid, match="already marked paid"):
        pay.mark_paid(run, world.users["admin"], "other")
    db.session.rollback()
    again = db.session.get(PaymentRun, run.id)
    assert (again.paid_at, again.paid_by_id, again.reference) == (
        when,
        coordinator(world).id,
        "BANK 42",
    )


def test_a_paid_run_cannot_be_changed(world):
    a, b = line(world), line(world)
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    pay.mark_paid(run, coordinator(world))
    with pytest.raises(pay.RunPaid):
        pay.remove_line(run, a)
    db.session.rollback()
    with pytest.raises(pay.RunPaid):
        pay.cancel_run(run)
    db.session.rollback()
    assert {x.run_id for x in db.session.scalars(select(PayLine))} == {run.id}
    assert {a.id, b.id} == {x.id for x in db.session.get(PaymentRun, run.id).lines}


def test_an_unpaid_run_can_lose_a_line_or_be_cancelled(world):
    a, b = line(world), line(world)
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    run_id = run.id
    pay.remove_line(run, a)
    assert db.session.get(PayLine, a.id, populate_existing=True).run_id is None
    with pytest.raises(DomainError, match="no longer in the payment run"):
        pay.remove_line(db.session.get(PaymentRun, run_id), a)
    db.session.rollback()
    assert pay.cancel_run(db.session.get(PaymentRun, run_id)) == 1
    db.session.flush()
    assert db.session.get(PaymentRun, run_id, populate_existing=True) is None
    assert db.session.get(PayLine, b.id, populate_existing=True).run_id is None


def test_an_empty_run_cannot_be_marked_paid(world):
    a = line(world)
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    pay.remove_line(run, a)
    with pytest.raises(DomainError, match="no lines"):
        pay.mark_paid(db.session.get(PaymentRun, run.id), coordinator(world))


def test_a_long_reference_is_refused(world):
    line(world)
    run = pay.create_run(world.client_x, coordinator(world))
    with pytest.raises(DomainError):
        pay.mark_paid(run, coordinator(world), "x" * (pay.REFERENCE_MAX + 1))


# --- totals ------------------------------------------------------------------------------


def test_totals_per_currency(world):
    line(world, claimed="80", receipt=True)  # 50 + 30
    line(world, claimed="10.25", receipt=True)  # 50 + 10.25
    line(world, client="y", claimed="5", receipt=True)  # 40 + 5 USD
    sums = pay.totals(PayLine.run_id.is_(None))
    assert [(t.currency, t.lines, t.fee, t.claimed, t.expenses, t.total) for t in sums] == [
        ("CNY", 2, D("100.00"), D("90.25"), D("40.25"), D("140.25")),
        ("USD", 1, D("40.00"), D("5.00"), D("5.00"), D("45.00")),
    ]
    by_client = pay.totals_by(PayLine.client_id, PayLine.run_id.is_(None))
    assert [t.total for t in by_client[world.client_x.id]] == [D("140.25")]


def test_a_shoppers_earnings(world):
    a = line(world, claimed="10", receipt=True)  # 60, paid
    b = line(world)  # 50, in an unpaid run
    line(world)  # 50, pending
    line(world, shopper=world.shopper_b)  # someone else's
    make_run([a], coordinator(world), paid=True)
    make_run([b], coordinator(world))
    (cny,) = pay.earnings(world.shopper_a)
    assert (cny.currency, cny.lines, cny.earned, cny.unpaid, cny.paid) == (
        "CNY",
        3,
        D("160.00"),
        D("100.00"),
        D("60.00"),
    )
    statuses = [pay.line_status(x) for x in db.session.scalars(pay.shopper_lines(world.shopper_a))]
    assert statuses == [pay.PENDING, pay.IN_RUN, pay.PAID]  # newest first


def test_the_bank_rows(world):
    a = line(world, claimed="80", receipt=True)
    b = line(world, shopper=world.shopper_b, claimed="5")
    run = pay.create_run(world.client_x, coordinator(world))
    db.session.flush()
    rows = list(pay.run_rows(run))
    day = pay.visit_day(a.visit).isoformat()
    assert rows[0] == [
        run.id, "Shopper A", "shopper.a@example.com", a.visit_id, "XN1", "North one", day,
        "Wave X", D("50.00"), D("80.00"), D("30.00"), D("80.00"), "CNY", "yes",
    ]  # fmt: skip
    assert rows[1][1:4] == ["Shopper B", "shopper.b@example.com", b.visit_id]
    assert rows[1][8:] == [D("50.00"), D("5.00"), D("0.00"), D("50.00"), "CNY", "no"]
    assert len(pay.run_header()) == len(rows[0])
