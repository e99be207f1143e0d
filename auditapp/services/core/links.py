"""Absolute links for mail and calendar feeds, built from the configured BASE_URL.

Never from the request: its Host header is whatever the sender put there, so a reset
requested with `Host: evil.example` would otherwise mail the victim a genuine token
on the attacker's site. Works with only an app context (command line, jobs) too.
"""

from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """The full address of `endpoint` on the site, as url_for(..., _external=True)
    would give for a request that came in at BASE_URL."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def absolute(path: str) -> str:
    """A site path (such as a stored notification link) made absolute on BASE_URL."""
    return urljoin(external_url("main.home"), path)


def site_host() -> str:
    """The site's host name (BASE_URL's, without port): stable names such as calendar
    event UIDs are made unique with it."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
