"""Route fuzz: every GET route of the app, as every member of the permission cast
(tests/web/access/), with hostile path values and hostile values for the query
parameters its view reads. Whatever comes in, the answer is never a server error.

The query parameters a view reads are found by asking: each route is opened once by
the members who may open it, with a query string that records the names the request
reads. The values are not the full cross product: each member gets one path and one
query string per route, the values chosen by a fixed rotation, so across the cast
every route meets most hostile values, the same ones on every run."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict

from tests.conftest import login
from tests.web.access import ANONYMOUS, CAST, load_access
from tests.web.access._cast import build_cast

ACCESS = load_access()

PATH_VALUES = (
    "0", "-1", str(2**31), str(2**63), str(2**64), str(10**30), "x", "x" * 5000,
    "9" * 5000, "٣", "%00", "..%2F..%2Fetc",
)  # fmt: skip
QUERY_VALUES = (
    str(2**31), str(2**63), str(2**64), str(10**30), "-1", "-" + "9" * 30, "0", "abc",
    "", "x" * 5000, "9" * 5000, "１２", "中文 Ünïcødé ☃", "\x00", "1\x00", "1e9", " 7 ",
)  # fmt: skip
# Names every list or report may read even when the first request did not.
ALWAYS_TRIED = ("page",)

_VARIABLE = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")
_read: set[str] = set()


class _RecordingArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """The query string, noting every name a view asks for."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        _read.add(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:  # noqa: A002
        _read.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key: Any) -> Any:
        _read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            _read.add(key)
        return super().__contains__(key)


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingArgs


GET_ENDPOINTS = sorted(endpoint for endpoint, route in ACCESS.items() if "GET" in route.methods)


def test_every_get_route_is_fuzzed(app: Flask) -> None:
    routed = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods} - {"static"}
    assert routed == set(GET_ENDPOINTS)


@pytest.fixture
def cast(make_client, make_region, make_store, make_user, make_shopper):
    return build_cast(make_client, make_region, make_store, make_user, make_shopper)


@pytest.fixture
def recording(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "request_class", _RecordingRequest)


def _pick(values: tuple[str, ...], *turns: int) -> str:
    """A value by a fixed rotation: different members and names get different ones."""
    return values[sum((i + 1) * 7**n for n, i in enumerate(turns)) % len(values)]


def _paths(rule_text: str, known: dict[str, Any], salt: int) -> Iterator[str]:
    """One path per cast member: one variable hostile, the others as the matrix had them."""
    names = _VARIABLE.findall(rule_text)
    for turn in range(len(CAST)):
        target = names[turn % len(names)]
        hostile = _pick(PATH_VALUES, salt, turn)

        def fill(match: re.Match[str], target: str = target, hostile: str = hostile) -> str:
            name = match.group(1)
            return hostile if name == target else quote(str(known.get(name, "1")), safe="")

        yield _VARIABLE.sub(fill, rule_text)


def _client(app: Flask, cast: Any, member: str) -> Any:
    client = app.test_client()
    if member != ANONYMOUS:
        login(client, cast.users[member])
    return client


class _Raised(Exception):
    """The app raised (in production, a 500); the test's transaction may be unusable,
    so the route's fuzzing stops there."""


def _status(client: Any, path: str, query: dict[str, str] | None = None) -> int:
    try:
        return int(client.get(path, query_string=query).status_code)
    except Exception as error:
        raise _Raised(f"{type(error).__name__}: {str(error)[:300]}") from error


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_hostile_paths_and_query_values_never_give_a_server_error(
    app: Flask, cast: Any, recording: None, endpoint: str
) -> None:
    route = ACCESS[endpoint]
    with app.test_request_context():
        valid = urlsplit(route.url(cast))
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    known = app.url_map.bind("auditapp.test").match(valid.path)[1]
    salt = sum(endpoint.encode())

    given = dict(parse_qsl(valid.query))
    names: set[str] = set(ALWAYS_TRIED) | set(given)
    for member in sorted(route.allowed):
        _read.clear()
        assert _status(_client(app, cast, member), valid.path, given) < 500
        names |= _read
    names.discard("csrf_token")

    tries: list[tuple[str, str, dict[str, str]]] = []
    paths = list(_paths(rule.rule, known, salt)) if rule.arguments else []
    for turn, member in enumerate(CAST):
        if paths:
            tries.append((member, paths[turn], {}))
        # Every other member keeps the matrix's own query values, so that a view
        # which needs them valid reaches the parameters it reads after them.
        query = {
            name: given[name] if turn % 2 and name in given else _pick(QUERY_VALUES, salt, turn, n)
            for n, name in enumerate(sorted(names))
        }
        tries.append((member, valid.path, query))

    failures = []
    for member, path, query in tries:
        shown = {name: value[:20] for name, value in query.items()}
        where = f"{member} GET {path[:100]} {shown}"
        try:
            status = _status(_client(app, cast, member), path, query)
        except _Raised as error:
            failures.append(f"{where}: {error}")
            break
        if status >= 500:
            failures.append(f"{where}: status {status}")
    assert not failures, "\n".join(failures)
