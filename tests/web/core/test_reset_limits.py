"""The password-reset form cannot flood a mailbox: requests are limited per client
address (429, with a page in the user's language) and per address typed in (no mail,
but the usual answer, so a stranger cannot get the owner's own request refused), and
an account gets at most RESET_MAILS_PER_HOUR reset mails, counted in the database so
the cap holds across app machines. The answer never tells whether an account exists.

Flask-Limiter counts with the wall clock, not the app's: the limits here are per day,
so no test depends on how fast it runs."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from auditapp.clock import frozen_at
from auditapp.extensions import db, limiter
from auditapp.models import OutboxMail
from tests.conftest import csrf_token

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SAID = "If that address has an account, a reset link is on its way."


@pytest.fixture(autouse=True)
def limits_per_day(app, monkeypatch):
    """The production limits' counts, over a window no test run outlasts."""
    monkeypatch.setitem(app.config, "RESET_REQUEST_LIMIT_PER_CLIENT", "5 per day")
    monkeypatch.setitem(app.config, "RESET_REQUEST_LIMIT_PER_EMAIL", "5 per day")


@pytest.fixture
def user(make_user):
    return make_user("ana@example.com", "coordinator", name="Ana")


def ask(app, email, ip="203.0.113.7", language="en"):
    browser = app.test_client()
    headers = {"Accept-Language": language}
    return browser.post(
        "/password/forgot",
        data={"csrf_token": csrf_token(browser), "email": email},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
        follow_redirects=True,
    )


def mails_to(email):
    return db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to == email))


def test_25_requests_reaching_the_service_send_at_most_the_cap(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "RESET_REQUEST_LIMIT_PER_EMAIL", "100 per day")
    with frozen_at(T0):
        answers = [ask(app, "ana@example.com", ip=f"198.51.100.{n}") for n in range(25)]
    assert all(SAID in answer.text for answer in answers)
    assert mails_to("ana@example.com") == app.config["RESET_MAILS_PER_HOUR"] == 3


def test_the_cap_holds_across_app_machines(app, user):
    """Each app machine counts requests in its own memory (without Redis); the cap on
    mails lives in the database, so machines that never saw the others still stop."""
    with frozen_at(T0):
        for _ in range(6):
            limiter.reset()  # as if each request reached another machine
            assert SAID in ask(app, "ana@example.com").text
    assert mails_to("ana@example.com") == 3


def test_the_cap_frees_up_after_an_hour(app, user):
    with frozen_at(T0):
        for _ in range(3):
            ask(app, "ana@example.com")
    limiter.reset()
    with frozen_at(T0 + timedelta(minutes=61)):
        ask(app, "ana@example.com")
    assert mails_to("ana@example.com") == 4


def test_one_address_asking_too_often_gets_a_readable_429(app, user):
    answers = [ask(app, f"someone{n}@example.com") for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "Too many attempts. Please wait a little and try again." in answers[-1].text
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_the_429_page_speaks_the_users_language(app, user):
    for n in range(5):
        ask(app, f"someone{n}@example.com", language="zh-CN")
    refused = ask(app, "ana@example.com", language="zh-CN")
    assert refused.status_code == 429
    assert "尝试次数过多，请稍后再试。" in refused.text


def test_one_typed_address_asked_for_too_often_sends_nothing_but_answers_as_usual(
    app, user, monkeypatch
):
    monkeypatch.setitem(app.config, "RESET_MAILS_PER_HOUR", 100)  # only the limit counts
    known = [ask(app, "ana@example.com", ip=f"198.51.100.{n}") for n in range(6)]
    unknown = [ask(app, "nobody@example.com", ip=f"192.0.2.{n}") for n in range(6)]
    assert [a.status_code for a in known] == [a.status_code for a in unknown] == [200] * 6
    assert all(SAID in answer.text for answer in known + unknown)
    assert mails_to("ana@example.com") == 5


def test_a_stranger_asking_for_someones_address_does_not_get_the_owner_a_429(app, user):
    for n in range(10):
        ask(app, "ana@example.com", ip=f"198.51.100.{n}")
    owner = ask(app, "ana@example.com", ip="203.0.113.99")
    assert owner.status_code == 200
    assert SAID in owner.text


def test_rotating_ipv6_addresses_within_a_64_count_as_one_client(app, user):
    answers = [ask(app, f"someone{n}@example.com", ip=f"2001:db8:9:1::{n + 1:x}") for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    elsewhere = ask(app, "someone9@example.com", ip="2001:db8:9:2::1")
    assert elsewhere.status_code == 200


def test_known_and_unknown_addresses_get_the_same_answer(app, user):
    known = ask(app, "ana@example.com", ip="198.51.100.1")
    unknown = ask(app, "nobody@example.com", ip="198.51.100.2")
    assert (known.status_code, known.request.path) == (unknown.status_code, unknown.request.path)
    assert SAID in known.text and SAID in unknown.text
    assert mails_to("ana@example.com") == 1
    assert mails_to("nobody@example.com") == 0


def test_only_posts_are_counted(app, user):
    browser = app.test_client()
    assert all(browser.get("/password/forgot").status_code == 200 for _ in range(8))
    assert ask(app, "ana@example.com").status_code == 200
