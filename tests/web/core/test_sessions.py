"""Sessions end when they should: a session cookie (or a remember cookie) copied
before a sign-out, a password change or reset, a deactivation or a "sign out
everywhere" is refused afterwards, on its very next request."""

import re

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select, update

from auditapp.extensions import db
from auditapp.models import OutboxMail, User
from tests.conftest import PASSWORD, csrf_token, login

HOST = "auditapp.test"


@pytest.fixture
def user(make_user):
    return make_user("ana@example.com", "coordinator", name="Ana")


def signed_in_browser(app, email="ana@example.com", password=PASSWORD):
    browser = app.test_client()
    response = browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": email, "password": password},
    )
    assert response.status_code == 302, response.text
    return browser


def copy_of(app, browser):
    """Another browser holding a copy of this one's session cookie, as a thief would."""
    cookie = browser.get_cookie("session", domain=HOST)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=HOST)
    return thief


def signed_in(browser) -> bool:
    return browser.get("/account/").status_code == 200


def test_a_copied_cookie_is_refused_after_sign_out(app, user):
    browser = signed_in_browser(app)
    thief = copy_of(app, browser)
    assert signed_in(thief)  # the copy works until the owner signs out
    browser.post("/logout", data={"csrf_token": csrf_token(browser)})
    assert not signed_in(thief)
    assert not signed_in(browser)


def test_other_sessions_end_when_the_password_changes_but_this_one_goes_on(app, user):
    laptop = signed_in_browser(app)
    phone = signed_in_browser(app)
    response = laptop.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(laptop),
            "current": PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(signed_in_browser(app, password="a brand new secret"))


def test_every_session_ends_when_the_password_is_reset(app, user):
    stolen = copy_of(app, signed_in_browser(app))
    browser = app.test_client()
    browser.post(
        "/password/forgot", data={"csrf_token": csrf_token(browser), "email": "ana@example.com"}
    )
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to == "ana@example.com")).one()
    path = re.search(r"https?://[^/\s]+(/password/reset/\S+)", mail.body).group(1)
    response = browser.post(
        path,
        data={
            "csrf_token": csrf_token(browser),
            "password": "the reset password",
            "confirm": "the reset password",
        },
    )
    assert response.status_code == 302
    assert not signed_in(stolen)


def test_a_deactivated_users_sessions_do_not_come_back_on_reactivation(app, user):
    browser = signed_in_browser(app)
    user.active = False
    db.session.flush()
    assert not signed_in(browser)
    user.active = True
    db.session.flush()
    assert not signed_in(browser)
    assert signed_in(signed_in_browser(app))  # signing in afresh works


def test_sign_out_everywhere_on_the_account_page_ends_the_other_sessions(app, user):
    laptop = signed_in_browser(app)
    phone = signed_in_browser(app)
    assert "Sign out everywhere else" in laptop.get("/account/").text
    response = laptop.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(laptop)})
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)


def test_an_admin_signs_a_user_out_everywhere(app, user, make_user):
    phone = signed_in_browser(app)
    admin = login(app.test_client(), make_user("boss@example.com", "admin"))
    page = admin.get(f"/users/{user.id}")
    assert f'action="/users/{user.id}/sign-out-everywhere"' in page.text
    response = admin.post(
        f"/users/{user.id}/sign-out-everywhere", data={"csrf_token": csrf_token(admin)}
    )
    assert response.status_code == 302
    assert not signed_in(phone)
    assert signed_in(admin)


def test_sign_out_everywhere_needs_the_csrf_token(app, user):
    laptop = signed_in_browser(app)
    phone = signed_in_browser(app)
    assert laptop.post("/account/sign-out-everywhere").status_code == 400
    assert signed_in(phone)


def test_a_remember_cookie_stops_working_with_the_sessions(app, user):
    with app.test_request_context():
        remembered = encode_cookie(user.get_id())
    browser = app.test_client()
    browser.set_cookie("remember_token", remembered, domain=HOST)
    assert signed_in(browser)  # a fresh browser is signed in by the cookie alone
    other = signed_in_browser(app)
    other.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(other)})
    returning = app.test_client()
    returning.set_cookie("remember_token", remembered, domain=HOST)
    assert not signed_in(returning)


def test_a_session_names_the_users_session_version(app, user):
    browser = signed_in_browser(app)
    with browser.session_transaction() as session:
        assert session["_user_id"] == f"{user.id}:0"
    browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(browser)})
    with browser.session_transaction() as session:
        assert session["_user_id"] == f"{user.id}:1"


def test_a_session_from_before_versions_ends_with_the_first_sign_out_everywhere(app, user):
    """Sessions made before the upgrade carry the bare user id: they count as version
    0, so nobody is signed out by the upgrade, and they end like any other."""
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = str(user.id)  # the bare id, as the old code wrote it
        session["_fresh"] = True
    assert signed_in(old)
    browser = signed_in_browser(app)
    browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(browser)})
    assert not signed_in(old)


def test_a_session_works_only_while_it_names_the_users_current_version(app, user):
    user.end_sessions()  # version 1: a session naming version 0 is over
    db.session.flush()
    current = login(app.test_client(), user)
    assert signed_in(current)
    stale = app.test_client()
    with stale.session_transaction() as session:
        session["_user_id"] = f"{user.id}:0"
        session["_fresh"] = True
    assert not signed_in(stale)


def test_ending_sessions_raises_the_version_stored_not_a_stale_copy_of_it(app, user):
    """Two requests ending the user's sessions at once (a sign-out here, a password
    change there) must end up two versions on, not both writing the same one."""
    assert user.session_version == 0
    users = User.__table__
    db.session.connection().execute(  # the other request, behind this one's back
        update(users)
        .where(users.c.id == user.id)
        .values(session_version=users.c.session_version + 1)
    )
    user.end_sessions()
    db.session.flush()
    assert user.session_version == 2
    stored = db.session.scalar(select(users.c.session_version).where(users.c.id == user.id))
    assert stored == 2


# --- "remember me" survives this browser signing in again under the new version ------


def remembered_browser(app, user):
    """A browser signed in by a remember cookie alone, as after it was closed."""
    with app.test_request_context():
        remembered = encode_cookie(user.get_id())
    browser = app.test_client()
    browser.set_cookie("remember_token", remembered, domain=HOST)
    assert signed_in(browser)
    return browser


def still_remembered(app, browser) -> bool:
    """Whether the browser, closed and opened again, is signed in by its remember cookie."""
    cookie = browser.get_cookie("remember_token", domain=HOST)
    if cookie is None:
        return False
    reopened = app.test_client()
    reopened.set_cookie("remember_token", cookie.value, domain=HOST)
    return signed_in(reopened)


def test_a_remembered_browser_stays_remembered_after_signing_out_everywhere_else(app, user):
    browser = remembered_browser(app, user)
    browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(browser)})
    assert signed_in(browser)
    assert still_remembered(app, browser)


def test_a_remembered_browser_stays_remembered_after_a_password_change(app, user):
    browser = remembered_browser(app, user)
    response = browser.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(browser),
            "current": PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert response.status_code == 302
    assert still_remembered(app, browser)


def test_an_admin_signing_themselves_out_everywhere_stays_remembered_here(app, make_user):
    admin = make_user("boss@example.com", "admin")
    browser = remembered_browser(app, admin)
    response = browser.post(
        f"/users/{admin.id}/sign-out-everywhere", data={"csrf_token": csrf_token(browser)}
    )
    assert response.status_code == 302
    assert signed_in(browser)
    assert still_remembered(app, browser)


def test_a_browser_that_was_not_remembered_is_not_remembered_afterwards(app, user):
    browser = signed_in_browser(app)
    browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(browser)})
    assert signed_in(browser)
    assert browser.get_cookie("remember_token", domain=HOST) is None
