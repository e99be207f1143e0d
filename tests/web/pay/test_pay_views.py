"""Shopper pay, the pages: the coordinator's pending lines and payment runs (CSV for
the bank, mark paid), the shopper's earnings, and who may see which."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.pay import PayLine, PaymentRun
from tests.conftest import csrf_token, login, page_text
from tests.web.access import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REVIEWER_X,
    SHOPPER_A,
    SHOPPER_B,
    STORE_MANAGER,
)
from tests.web.access._cast import build_cast
from tests.web.access.my_visits import make_wave
from tests.web.access.payments import approved_line, make_run

D = Decimal


@pytest.fixture
def cast(make_client, make_region, make_store, make_user, make_shopper):
    return build_cast(make_client, make_region, make_store, make_user, make_shopper)


@pytest.fixture
def world(cast):
    cast.wave_x = make_wave(
        cast.client_x, [cast.store_north], name="March X", fee=D("50"), expense_cap=D("30")
    )
    cast.wave_y = make_wave(cast.client_y, [cast.store_y], name="March Y", fee=D("40"))
    # Noon in the stores' time zone (UTC+8), so a visit's day is the same in UTC and
    # in Shanghai whatever the time now.
    cast.start = utcnow().replace(hour=4, minute=0, second=0, microsecond=0) - timedelta(days=20)
    cast.days = 0
    return cast


def line(world, client="x", shopper=None, claimed=None, receipt=False):
    world.days += 1
    wave, store = (
        (world.wave_x, world.store_north) if client == "x" else (world.wave_y, world.store_y)
    )
    start = world.start + timedelta(days=world.days)
    made = approved_line(wave, store, shopper or world.shopper_a, start, claimed, receipt)
    db.session.commit()  # the views' own rollbacks must not take it away
    return made


def as_(client, world, member):
    return login(client, world.users[member])


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def rows_of(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-line="(\d+)"', html)}


def flashes(html: str) -> str:
    return " ".join(re.findall(r'<p class="flash[^"]*" role="status">([^<]*)</p>', html))


# --- the pending list -----------------------------------------------------------------


def test_coordinator_sees_the_pending_lines_of_their_clients_only(client, world):
    capped = line(world, claimed="80", receipt=True)
    no_receipt = line(world, shopper=world.shopper_b, claimed="20")
    line(world, client="y")  # client Y's: not shown to coordinator X
    in_run = line(world)
    make_run([in_run], world.users[COORDINATOR_X])
    db.session.commit()
    page = as_(client, world, COORDINATOR_X).get("/payments/")
    assert page.status_code == 200
    assert rows_of(page.text) == {capped.id, no_receipt.id}
    text = page_text(page.text)
    assert "Client Y" not in text and "March Y" not in text
    assert "Shopper A" in text and "Shopper B" in text and "North one" in text
    # claimed against paid, and why it was cut
    assert "CN¥80.00 claimed; cut to the wave's expense cap of CN¥30.00." in text
    assert "CN¥20.00 claimed; expenses are paid only against a receipt." in text
    assert f'href="/evidence/{capped.receipt_id}"' in page.text
    assert "No receipt" in text
    # the totals: 80 + 50
    assert "CN¥130.00" in text
    assert "2 lines · fees CN¥100.00 · expenses CN¥30.00" in text


def test_admin_sees_every_client(client, world):
    x, y = line(world), line(world, client="y")
    page = as_(client, world, ADMIN).get("/payments/")
    assert rows_of(page.text) == {x.id, y.id}
    assert "CN¥50.00" in page.text and "CN¥40.00" in page.text


def test_filter_by_client_and_wave(client, world):
    x = line(world)
    other = make_wave(world.client_x, [world.store_north], name="April X", fee=D("60"))
    april = approved_line(other, world.store_north, world.shopper_b, world.start)
    db.session.commit()
    as_(client, world, ADMIN)
    assert rows_of(client.get(f"/payments/?wave={other.id}").text) == {april.id}
    page = client.get(f"/payments/?client={world.client_x.id}&wave={world.wave_x.id}")
    assert rows_of(page.text) == {x.id}
    # a wave filter carries into "all lines"
    assert f'name="wave_id" value="{world.wave_x.id}"' in page.text
    assert "Create a payment run of the 1 line" in page.text


def test_filters_outside_the_scope_are_not_found(client, world):
    line(world)
    as_(client, world, COORDINATOR_Y)
    assert client.get(f"/payments/?client={world.client_x.id}").status_code == 404
    assert client.get(f"/payments/?wave={world.wave_x.id}").status_code == 404
    assert client.get(f"/payments/runs?client={world.client_x.id}").status_code == 404
    page = client.get("/payments/")
    assert page.status_code == 200 and not rows_of(page.text)


# --- making a run ---------------------------------------------------------------------


def test_create_a_run_of_all_pending_lines(client, world):
    a, b = line(world, claimed="10", receipt=True), line(world)
    theirs = line(world, client="y")
    as_(client, world, COORDINATOR_X)
    response = post(client, "/payments/runs", client_id=str(world.client_x.id), scope="all")
    run = db.session.scalars(select(PaymentRun)).one()
    assert response.status_code == 302
    assert response.location.endswith(f"/payments/runs/{run.id}")
    page = client.get(response.location)
    assert f"Payment run #{run.id} created with 2 lines." in flashes(page.text)
    assert rows_of(page.text) == {a.id, b.id}
    assert "CN¥110.00" in page_text(page.text)
    assert db.session.get(PayLine, theirs.id).run_id is None
    # nothing is left pending for X
    assert not rows_of(client.get("/payments/").text)
    again = post(client, "/payments/runs", client_id=str(world.client_x.id), scope="all")
    assert "nothing to pay" in flashes(client.get(again.location).text)
    assert db.session.scalars(select(PaymentRun.id)).all() == [run.id]


def test_create_a_run_of_chosen_lines(client, world):
    a, b, c = line(world), line(world), line(world)
    as_(client, world, COORDINATOR_X)
    data = {
        "csrf_token": csrf_token(client),
        "client_id": str(world.client_x.id),
        "scope": "selected",
        "line": [str(a.id), str(c.id)],
    }
    response = client.post("/payments/runs", data=data)
    assert response.status_code == 302
    run = db.session.scalars(select(PaymentRun)).one()
    assert {x.id for x in run.lines} == {a.id, c.id}
    assert rows_of(client.get("/payments/").text) == {b.id}
    # choosing a line that is in a run already changes nothing
    data["line"] = [str(a.id), str(b.id)]
    refused = client.post("/payments/runs", data=data)
    assert "Only 1 of the 2 chosen lines" in flashes(client.get(refused.location).text)
    assert db.session.get(PayLine, b.id, populate_existing=True).run_id is None
    assert len(db.session.scalars(select(PaymentRun)).all()) == 1
    # choosing nothing is explained
    data["line"] = []
    empty = client.post("/payments/runs", data=data)
    assert "Choose at least one line" in flashes(client.get(empty.location).text)


def test_another_coordinator_cannot_make_a_run_for_client_x(client, world):
    x = line(world)
    as_(client, world, COORDINATOR_Y)
    response = post(client, "/payments/runs", client_id=str(world.client_x.id), scope="all")
    assert response.status_code == 404
    # nor slip client X's line into a run of their own client
    line(world, client="y")
    data = {"client_id": str(world.client_y.id), "scope": "selected", "line": str(x.id)}
    post(client, "/payments/runs", **data)
    assert db.session.get(PayLine, x.id, populate_existing=True).run_id is None
    assert not db.session.scalars(select(PaymentRun)).all()


# --- the run: CSV, mark paid ----------------------------------------------------------


def test_the_run_csv(client, world):
    world.shopper_b.user.name = '=HYPERLINK("http://evil.example/","click")'
    a = line(world, claimed="80", receipt=True)
    b = line(world, shopper=world.shopper_b, claimed="5")
    run = make_run([a, b], world.users[COORDINATOR_X])
    db.session.commit()
    response = as_(client, world, COORDINATOR_X).get(f"/payments/runs/{run.id}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="payment-run-{run.id}.csv"'
    assert response.headers["Cache-Control"] == "private, no-store"  # names and sums
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == [
        "Run", "Shopper", "Shopper email", "Visit", "Store code", "Store", "Visit date",
        "Wave", "Fee", "Expenses claimed", "Expenses paid", "Total", "Currency", "Receipt",
    ]  # fmt: skip
    day = (world.start + timedelta(days=1)).date().isoformat()  # Shanghai: same day
    assert rows[1] == [
        str(run.id), "Shopper A", "shopper.a@example.com", str(a.visit_id), "XN1",
        "North one", day, "March X", "50.00", "80.00", "30.00", "80.00", "CNY", "yes",
    ]  # fmt: skip
    # a name a spreadsheet would run as a formula is written as text
    assert rows[2][1] == "'" + '=HYPERLINK("http://evil.example/","click")'
    assert rows[2][8:] == ["50.00", "5.00", "0.00", "50.00", "CNY", "no"]
    assert len(rows) == 3


def test_the_csv_header_follows_the_language(client, world):
    run = make_run([line(world)], world.users[COORDINATOR_X])
    db.session.commit()
    user = world.users[COORDINATOR_X]
    user.locale = "zh_Hans"
    db.session.commit()
    response = login(client, user).get(f"/payments/runs/{run.id}.csv")
    header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert response.status_code == 200
    assert len(header) == 14
    assert {"门店编码", "门店", "调查", "币种"} <= set(header)


def test_the_csv_needs_the_export_permission(client, world):
    run_y = make_run([line(world, client="y")], world.users[COORDINATOR_Y])
    db.session.commit()
    as_(client, world, COORDINATOR_Y)  # manages client Y, but may not export
    page = client.get(f"/payments/runs/{run_y.id}")
    assert page.status_code == 200
    assert ".csv" not in page.text
    assert "export permission" in page.text
    assert client.get(f"/payments/runs/{run_y.id}.csv").status_code == 404
    world.users[COORDINATOR_Y].can_export = True
    db.session.commit()
    assert client.get(f"/payments/runs/{run_y.id}.csv").status_code == 200


def test_mark_paid_once(client, world):
    a = line(world)
    run = make_run([a], world.users[COORDINATOR_X])
    db.session.commit()
    as_(client, world, COORDINATOR_X)
    page = client.get(f"/payments/runs/{run.id}")
    assert 'id="mark-paid"' in page.text and "/remove" in page.text
    response = post(client, f"/payments/runs/{run.id}/paid", reference="HSBC-2031-03")
    assert response.status_code == 302
    page = client.get(response.location)
    assert f"Payment run #{run.id} marked paid." in flashes(page.text)
    assert "HSBC-2031-03" in page.text
    assert 'id="mark-paid"' not in page.text and "/remove" not in page.text
    assert "Cancel this run" not in page.text
    fresh = db.session.get(PaymentRun, run.id, populate_existing=True)
    paid_at = fresh.paid_at
    assert paid_at is not None and fresh.paid_by_id == world.users[COORDINATOR_X].id
    # marking twice is refused, with when and by whom
    login(client, world.users[ADMIN])
    again = post(client, f"/payments/runs/{run.id}/paid", reference="other")
    message = flashes(client.get(again.location).text)
    assert "already marked paid" in message and "coord.x" in message
    fresh = db.session.get(PaymentRun, run.id, populate_existing=True)
    assert (fresh.paid_at, fresh.reference) == (paid_at, "HSBC-2031-03")
    # and the paid run cannot be changed
    removed = post(client, f"/payments/runs/{run.id}/lines/{a.id}/remove")
    assert "can no longer be changed" in flashes(client.get(removed.location).text)
    cancelled = post(client, f"/payments/runs/{run.id}/cancel")
    assert "can no longer be changed" in flashes(client.get(cancelled.location).text)
    assert db.session.get(PayLine, a.id, populate_existing=True).run_id == run.id


def test_a_too_long_reference_is_shown_beside_the_field(client, world):
    run = make_run([line(world)], world.users[COORDINATOR_X])
    db.session.commit()
    as_(client, world, COORDINATOR_X)
    response = post(client, f"/payments/runs/{run.id}/paid", reference="x" * 201)
    assert response.status_code == 422
    assert 'class="error"' in response.text
    assert db.session.get(PaymentRun, run.id, populate_existing=True).paid_at is None


def test_take_a_line_out_and_cancel_a_run(client, world):
    a, b = line(world), line(world)
    run_id = make_run([a, b], world.users[COORDINATOR_X]).id
    db.session.commit()
    as_(client, world, COORDINATOR_X)
    post(client, f"/payments/runs/{run_id}/lines/{a.id}/remove")
    assert rows_of(client.get(f"/payments/runs/{run_id}").text) == {b.id}
    assert rows_of(client.get("/payments/").text) == {a.id}
    response = post(client, f"/payments/runs/{run_id}/cancel")
    assert "cancelled; 1 line is waiting" in flashes(client.get(response.location).text)
    assert rows_of(client.get("/payments/").text) == {a.id, b.id}
    assert client.get(f"/payments/runs/{run_id}").status_code == 404


def test_the_list_of_runs(client, world):
    paid = make_run([line(world, claimed="10", receipt=True)], world.users[COORDINATOR_X], True)
    open_ = make_run([line(world)], world.users[COORDINATOR_X])
    other = make_run([line(world, client="y")], world.users[COORDINATOR_Y])
    db.session.commit()
    page = as_(client, world, COORDINATOR_X).get("/payments/runs")
    runs = {int(n) for n in re.findall(r'data-run="(\d+)"', page.text)}
    assert runs == {paid.id, open_.id}
    assert other.id not in runs
    text = page_text(page.text)
    assert "Not paid yet" in text and "Paid on" in text and "CN¥60.00" in text


# --- the shopper's earnings -----------------------------------------------------------


def test_shopper_sees_only_their_own_lines_with_their_status(client, world):
    paid = line(world, claimed="10", receipt=True)
    in_run = line(world)
    pending = line(world, claimed="40")
    someone_else = line(world, shopper=world.shopper_b)
    run = make_run([paid], world.users[COORDINATOR_X], paid=True)
    make_run([in_run], world.users[COORDINATOR_X])
    db.session.commit()
    page = as_(client, world, SHOPPER_A).get("/my/earnings")
    assert page.status_code == 200
    assert rows_of(page.text) == {paid.id, in_run.id, pending.id}
    assert someone_else.id not in rows_of(page.text)
    cards = re.findall(r'data-line="(\d+)".*?</article>', page.text, re.S)
    assert [int(n) for n in cards] == [pending.id, in_run.id, paid.id]  # newest first
    text = page_text(page.text)
    assert "Pending" in text and "In a payment run" in text
    fresh = db.session.get(PaymentRun, run.id)
    assert f"Paid on {fresh.paid_at.strftime('%b %-d, %Y')}" in text
    assert 'data-sum="earned">CN¥160.00' in page.text
    assert 'data-sum="unpaid">CN¥100.00' in page.text
    assert 'data-sum="paid">CN¥60.00' in page.text
    assert "expenses are paid only against a receipt" in text
    # another shopper sees nothing of it
    other = login(client, world.users[SHOPPER_B]).get("/my/earnings")
    assert rows_of(other.text) == {someone_else.id}


def test_a_shopper_without_earnings_gets_a_friendly_page(client, world):
    page = as_(client, world, SHOPPER_B).get("/my/earnings")
    assert page.status_code == 200
    assert "Nothing earned yet" in page.text


def test_pages_carry_no_inline_style_or_script(client, world):
    a = line(world, claimed="80", receipt=True)
    run = make_run([a], world.users[COORDINATOR_X])
    db.session.commit()
    pages = [
        as_(client, world, COORDINATOR_X).get("/payments/").text,
        client.get("/payments/runs").text,
        client.get(f"/payments/runs/{run.id}").text,
        login(client, world.users[SHOPPER_A]).get("/my/earnings").text,
    ]
    for html in pages:
        assert "style=" not in html
        assert "<script>" not in html


# --- who sees what ------------------------------------------------------------------------


def test_navigation(client, world):
    assert 'href="/payments/"' in as_(client, world, COORDINATOR_X).get("/").text
    home = login(client, world.users[SHOPPER_A]).get("/").text
    assert 'href="/my/earnings"' in home and 'href="/payments/"' not in home
    assert 'href="/payments/"' not in login(client, world.users[REVIEWER_X]).get("/").text


@pytest.mark.parametrize("member", [REVIEWER_X, REGIONAL_NORTH, STORE_MANAGER, SHOPPER_A])
def test_outsiders_get_404(client, world, member):
    run = make_run([line(world)], world.users[COORDINATOR_X])
    db.session.commit()
    as_(client, world, member)
    for url in ("/payments/", "/payments/runs", f"/payments/runs/{run.id}",
                f"/payments/runs/{run.id}.csv"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    response = post(client, f"/payments/runs/{run.id}/paid")
    assert response.status_code == 404
    assert db.session.get(PaymentRun, run.id, populate_existing=True).paid_at is None


def test_coordinator_of_another_client_gets_404_on_the_run(client, world):
    a = line(world)
    run = make_run([a], world.users[COORDINATOR_X])
    db.session.commit()
    as_(client, world, COORDINATOR_Y)
    for url in (f"/payments/runs/{run.id}", f"/payments/runs/{run.id}.csv"):
        assert client.get(url).status_code == 404, url
    for url in (f"/payments/runs/{run.id}/paid", f"/payments/runs/{run.id}/cancel",
                f"/payments/runs/{run.id}/lines/{a.id}/remove"):  # fmt: skip
        assert post(client, url).status_code == 404, url
    fresh = db.session.get(PaymentRun, run.id, populate_existing=True)
    assert fresh is not None and fresh.paid_at is None and len(fresh.lines) == 1


def test_coordinators_do_not_have_earnings(client, world):
    assert as_(client, world, COORDINATOR_X).get("/my/earnings").status_code == 404
