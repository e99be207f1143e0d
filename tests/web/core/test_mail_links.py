"""Links in mail go to the configured BASE_URL, never to the host a request names
(a reset asked for with `Host: evil.example` must not mail the victim a genuine token
on the attacker's site), and with production settings the site refuses requests for
hosts it was not configured for."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from auditapp import create_app
from auditapp.extensions import db
from auditapp.models import OutboxMail, utcnow
from auditapp.services.core import accounts
from auditapp.services.follow_up import alerts
from auditapp.services.waves import notifications
from tests.web.access.my_visits import make_visit, make_wave

SITE = "https://audit.example.com"
EVIL = "http://evil.example"


@pytest.fixture
def site(app, monkeypatch):
    """The site's address is configured; SERVER_NAME is not (as in production), so a
    request's own Host header is what url_for(_external=True) would have used."""
    monkeypatch.setitem(app.config, "BASE_URL", SITE)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)


def mail_to(email):
    return db.session.scalars(select(OutboxMail).where(OutboxMail.to == email)).one()


def links_in(text):
    return re.findall(r"https?://\S+", text)


def test_a_reset_asked_for_under_another_host_links_to_the_site(app, site, make_user):
    make_user("victim@example.com", "coordinator")
    attacker = app.test_client()
    page = attacker.get("/password/forgot", base_url=EVIL)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    response = attacker.post(
        "/password/forgot",
        base_url=EVIL,
        headers={"Host": "evil.example"},
        data={"csrf_token": token, "email": "victim@example.com"},
    )
    assert response.status_code == 302
    (link,) = links_in(mail_to("victim@example.com").body)
    assert link.startswith(f"{SITE}/password/reset/")


def test_an_invitation_links_to_the_site_whatever_the_request(app, site, make_user):
    admin = make_user("boss@example.com", "admin", name="Boss")
    invited = make_user("new@example.com", "coordinator")
    with app.test_request_context(base_url=EVIL):
        link = accounts.send_invitation(invited, admin)
    assert link.startswith(f"{SITE}/invitation/")
    assert links_in(mail_to("new@example.com").body) == [link]


def test_visit_mail_links_to_the_site_whatever_the_request(
    app, site, make_client, make_region, make_store, make_shopper
):
    client = make_client("LNK")
    store = make_store(client, make_region(client, "R1"), "L1")
    shopper = make_shopper("ann@example.com")
    start = utcnow() + timedelta(days=2)
    visit = make_visit(make_wave(client, [store]), store, start, shopper=shopper)
    with app.test_request_context(base_url=EVIL):
        notifications.notify_assigned(visit)
    assert links_in(mail_to("ann@example.com").body) == [f"{SITE}/my/visits/{visit.id}"]


def test_alert_mail_links_to_the_site_whatever_the_request(app, site, make_user):
    coordinator = make_user("coord@example.com", "coordinator")
    alert = alerts.Alert(
        kind="appeal_filed",  # mailed at once by default
        key="appeal-1",
        store_id=None,
        endpoint="alerts.preferences",
        values={},
        text=lambda _language: ("An appeal", "Someone appealed."),
    )
    with app.test_request_context(base_url=EVIL):
        assert alerts.raise_alert(alert, [coordinator]) == 1
    body = mail_to("coord@example.com").body
    assert links_in(body) == [f"{SITE}/account/alerts", f"{SITE}/account/alerts"]


# --- which hosts the site answers to -----------------------------------------------


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    """Makes an app as `make run` or a deployment starts it: neither DEBUG nor TESTING.
    Only from the settings given: its instance folder (and so instance/config.py) is an
    empty one, and AUDITAPP_* variables of the machine running the tests are ignored, so
    nothing points it at a real database or another address."""
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda _self: str(tmp_path))

    def make(**settings):
        for name in [name for name in os.environ if name.startswith("AUDITAPP_")]:
            monkeypatch.delenv(name)
        return create_app(
            {
                "TESTING": False,
                "DEBUG": False,
                "SECRET_KEY": "production-test",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                **settings,
            }
        )

    return make


def test_the_production_app_reads_no_settings_of_the_machine(production_app, monkeypatch):
    monkeypatch.setenv("AUDITAPP_DATABASE_URL", "postgresql+psycopg://real@db.example/audit")
    monkeypatch.setenv("AUDITAPP_BASE_URL", "https://real.example.com")
    site = production_app()
    assert site.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert site.config["BASE_URL"] == "http://127.0.0.1:5000"
    project_instance = Path(__file__).parents[3] / "instance"
    assert Path(site.instance_path) != project_instance


def test_production_settings_refuse_a_host_that_is_not_configured(production_app):
    site = production_app(BASE_URL=SITE, EXTRA_HOSTS="localhost, .internal.example")
    browser = site.test_client()
    refused = browser.post("/login", headers={"Host": "evil.example"}, data={"email": "x"})
    assert refused.status_code == 400
    assert "not served at that address" in refused.text
    for host in ("audit.example.com", "localhost:8000", "app.internal.example"):
        assert browser.get("/login", headers={"Host": host}).status_code == 200, host


def test_the_development_address_is_trusted_by_default(production_app):
    """`make run` serves http://127.0.0.1:5000 with production settings."""
    site = production_app()
    assert site.config["TRUSTED_HOSTS"] == ["127.0.0.1"]
    assert site.test_client().get("/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_configured_trusted_hosts_are_kept_and_tests_trust_any_host(app, production_app):
    assert production_app(TRUSTED_HOSTS=["a.example"]).config["TRUSTED_HOSTS"] == ["a.example"]
    assert app.config["TRUSTED_HOSTS"] is None  # TESTING: the test client's hosts vary


def test_a_base_url_that_is_not_a_web_address_stops_the_app_starting(production_app):
    with pytest.raises(ValueError, match="BASE_URL"):
        production_app(BASE_URL="audit.example.com")
