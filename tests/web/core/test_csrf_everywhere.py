"""Every route that takes a POST refuses one without a CSRF token, so a route added
later without protection fails here. The check runs before the view, so any id in
the address will do: the request never reaches the object."""

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from tests.conftest import login


def post_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if "POST" in (r.methods or ())),
        key=lambda r: r.rule,
    )


def _url(app: Flask, rule: Rule) -> str:
    """The rule's address with 1 for every number and x for every other part."""
    with app.test_request_context():
        values = {}
        for name in rule.arguments:
            numeric = isinstance(rule._converters[name], IntegerConverter)
            values[name] = 1 if numeric else "x"
        adapter = app.url_map.bind("auditapp.test")
        return adapter.build(rule.endpoint, values, method="POST")


def test_the_app_has_post_routes_to_check(app):
    assert len(post_rules(app)) > 30


@pytest.mark.parametrize("body", ["form", "json"])
def test_every_post_without_a_csrf_token_is_refused(app, client, make_user, body):
    login(client, make_user("admin@example.com", "admin"))
    unprotected = []
    for rule in post_rules(app):
        url = _url(app, rule)
        if body == "json":
            response = client.post(url, json={"revision": 1, "data": {}})
        else:
            response = client.post(url, data={"name": "x", "locale": "en"})
        if response.status_code != 400:
            unprotected.append(f"{rule.endpoint} {url} -> {response.status_code}")
    assert not unprotected, "POST taken without a CSRF token: " + "; ".join(unprotected)
