"""CSRF, response headers, cookies, escaping and the error pages."""

import pytest

from tests.conftest import PASSWORD, csrf_token, login

XSS = "<script>alert(1)</script>"


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin")


@pytest.fixture
def org(make_client, make_region, make_store):
    client = make_client("ACME")
    region = make_region(client, "EAST")
    store = make_store(client, region, "S1", name=XSS, city="<b>City</b>")
    return client, region, store


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/clients/new", {"code": "NEW", "name": "New", "rotation_days": "90"}),
        ("/users/new", {"email": "x@example.com", "name": "X", "role": "admin", "locale": "en"}),
        ("/shoppers/new", {"email": "s@example.com", "name": "S", "certification_level": "1"}),
        ("/account/", {"name": "Renamed", "locale": "en"}),
        ("/account/password", {"current": PASSWORD, "password": "x" * 12, "confirm": "x" * 12}),
        ("/language", {"locale": "zh_Hans"}),
        ("/logout", {}),
    ],
)
def test_post_without_csrf_token_is_refused(client, admin, url, form):
    login(client, admin)
    response = client.post(url, data=form)
    assert response.status_code == 400
    assert "could not be understood" in response.text


def test_post_with_a_token_of_another_session_is_refused(app, client, admin):
    other = login(app.test_client(), admin)
    stolen = csrf_token(other)
    login(client, admin)
    response = client.post("/clients/new", data={"csrf_token": stolen, "code": "N", "name": "N"})
    assert response.status_code == 400


def test_sign_in_form_needs_the_csrf_token(client, admin):
    response = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert response.status_code == 400


def test_import_confirmation_without_csrf_is_refused(client, admin, org):
    acme = org[0]
    login(client, admin)
    response = client.post(f"/stores/import/{acme.id}", data={"payload": "Y29kZQ=="})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/login", "/", "/stores/", "/no-such-page"])
def test_security_headers_are_on_every_response(client, admin, url):
    login(client, admin)
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def _session_cookie(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[0].lower()


def test_session_cookie_is_httponly_and_samesite_lax(client, admin):
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": "admin@example.com", "password": PASSWORD},
    )
    cookie = _session_cookie(response)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP in development: a Secure cookie would be lost
    assert "Strict-Transport-Security" not in response.headers


def test_session_cookie_is_secure_over_https(app, admin):
    client = app.test_client()
    page = client.get("/login", base_url="https://auditapp.test")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        base_url="https://auditapp.test",
        data={"csrf_token": token, "email": "admin@example.com", "password": PASSWORD},
        headers={"Referer": "https://auditapp.test/login"},
    )
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "secure" in cookie
    assert "httponly" in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_store_name_is_escaped_in_the_list(client, admin, org):
    response = login(client, admin).get("/stores/")
    assert XSS not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<b>City</b>" not in response.text


def test_store_name_is_escaped_on_its_page_and_edit_form(client, admin, org):
    store = org[2]
    login(client, admin)
    for url in (f"/stores/{store.id}", f"/stores/{store.id}/edit"):
        response = client.get(url)
        assert response.status_code == 200
        assert XSS not in response.text
        assert "&lt;script&gt;" in response.text


def test_user_name_is_escaped_on_the_start_page(client, make_user):
    user = make_user("x@example.com", "admin", name=XSS)
    response = login(client, user).get("/")
    assert XSS not in response.text
    assert "&lt;script&gt;" in response.text


def test_not_found_page_is_friendly_and_uses_the_layout(client, admin):
    login(client, admin)
    response = client.get("/stores/999999")
    assert response.status_code == 404
    assert "We could not find that page." in response.text
    assert "Back to the start page" in response.text
    assert 'class="topbar"' in response.text
    assert "Traceback" not in response.text


def test_not_found_page_works_signed_out(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "We could not find that page." in response.text
    assert "<!doctype html>" in response.text


def test_wrong_method_page_is_friendly(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "That action is not allowed here." in response.text
