"""The permission matrix: every route of the app, tried by every member of a named
cast. Who may open what lives in tests/web/access/, one module per blueprint."""

from urllib.parse import urlsplit

import pytest

from auditapp.extensions import db
from tests.conftest import csrf_token, login
from tests.web.access import ANONYMOUS, CAST, load_access
from tests.web.access._cast import build_cast

ACCESS = load_access()


@pytest.fixture
def cast(make_client, make_region, make_store, make_user, make_shopper):
    return build_cast(make_client, make_region, make_store, make_user, make_shopper)


def _as(app, cast, member):
    client = app.test_client()
    if member != ANONYMOUS:
        login(client, cast.users[member])
    return client


def _sent_to_login(response) -> bool:
    """Asked to sign in first (sign-out also lands on /login, but without `next`)."""
    if response.status_code != 302:
        return False
    target = urlsplit(response.location)
    return target.path == "/login" and "next=" in target.query


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    unclassified = sorted(endpoints - ACCESS.keys())
    assert not unclassified, f"add these endpoints to tests/web/access/: {unclassified}"
    stale = sorted(ACCESS.keys() - endpoints)
    assert not stale, f"classified but no longer routed: {stale}"


def test_every_classified_method_is_routed(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ACCESS:
            for method in ACCESS[rule.endpoint].methods:
                assert method in rule.methods, f"{rule.endpoint} does not take {method}"


PAIRS = [
    pytest.param(endpoint, member, id=f"{endpoint}-{member}")
    for endpoint in sorted(ACCESS)
    for member in CAST
]


@pytest.mark.parametrize(("endpoint", "member"), PAIRS)
def test_route_access(app, cast, endpoint, member):
    route = ACCESS[endpoint]
    with app.test_request_context():
        url = route.url(cast)
        form = dict(route.form(cast))
    client = _as(app, cast, member)
    allowed = member in route.allowed
    for method in route.methods:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client), **form})
        status = response.status_code
        where = f"{method} {url} as {member}: {status} {response.location or ''}"
        if allowed:
            assert status < 500, where
            assert status not in (403, 404), where
            if method == "GET":
                assert status in (200, 302), where
            assert not _sent_to_login(response), where
        elif member == ANONYMOUS:
            assert _sent_to_login(response), where
        else:
            assert status == route.denied_status, where


# --- the rules the matrix stands for, spelled out -------------------------------------


def test_shopper_cannot_open_another_shoppers_profile(client, cast):
    login(client, cast.users["shopper_a"])
    for url in (f"/shoppers/{cast.shopper_b.id}", f"/shoppers/{cast.shopper_b.id}/edit"):
        response = client.get(url)
        assert response.status_code == 404
        assert "shopper.b@example.com" not in response.text


def test_shopper_sees_no_shopper_pool(client, cast):
    response = login(client, cast.users["shopper_a"]).get("/shoppers/")
    assert response.status_code == 404


def test_regional_manager_north_cannot_open_a_south_store(client, cast):
    login(client, cast.users["regional_north"])
    south = cast.store_south
    assert client.get(f"/stores/{south.id}").status_code == 404
    assert client.get(f"/stores/{south.id}/edit").status_code == 404
    assert client.get(f"/stores/export.csv?region={cast.south.id}").status_code == 404
    assert client.get(f"/stores/?region={cast.south.id}").status_code == 404


def test_regional_manager_north_sees_the_whole_north_subtree_only(client, cast):
    response = login(client, cast.users["regional_north"]).get("/stores/")
    assert response.status_code == 200
    assert "North one" in response.text
    assert "North area one" in response.text
    assert "South one" not in response.text
    assert "Y one" not in response.text
    assert client.get(f"/stores/{cast.store_north_area.id}").status_code == 200


def test_regional_manager_export_holds_only_their_stores(client, cast):
    login(client, cast.users["regional_north"])
    response = client.get("/stores/export.csv")
    assert response.status_code == 200
    codes = {line.split(",")[0] for line in response.text.lstrip("\ufeff").splitlines()[1:]}
    assert codes == {"XN1", "XNA1"}
    filtered = client.get(f"/stores/export.csv?region={cast.north_area.id}")
    assert [line.split(",")[0] for line in filtered.text.splitlines()[1:]] == ["XNA1"]


def test_store_manager_sees_only_their_own_store(client, cast):
    login(client, cast.users["store_manager_north"])
    response = client.get("/stores/")
    assert "North area one" in response.text
    assert "North one" not in response.text.replace("North area one", "")
    assert client.get(f"/stores/{cast.store_north.id}").status_code == 404


def test_coordinator_of_y_cannot_open_client_x_or_its_stores(client, cast):
    login(client, cast.users["coordinator_y"])
    x, store = cast.client_x, cast.store_north
    for url in (
        f"/clients/{x.id}",
        f"/clients/{x.id}/edit",
        f"/clients/{x.id}/regions/new",
        f"/clients/regions/{cast.north.id}/edit",
        f"/stores/{store.id}",
        f"/stores/{store.id}/edit",
        f"/stores/new/{x.id}",
        f"/stores/import/{x.id}",
        f"/stores/?client={x.id}",
    ):
        assert client.get(url).status_code == 404, url
    listing = client.get("/clients/").text
    assert "Client Y" in listing
    assert "Client X" not in listing


def test_coordinator_of_y_cannot_change_client_x_by_posting(client, cast):
    login(client, cast.users["coordinator_y"])
    token = csrf_token(client)
    response = client.post(
        f"/clients/{cast.client_x.id}/edit",
        data={"csrf_token": token, "code": "X", "name": "Taken over", "rotation_days": "90"},
    )
    assert response.status_code == 404
    db.session.refresh(cast.client_x)
    assert cast.client_x.name == "Client X"


@pytest.mark.parametrize("member", ["coordinator_y", "regional_south", "store_manager_north"])
def test_export_needs_the_export_permission(client, cast, member):
    login(client, cast.users[member])
    assert client.get("/stores/export.csv").status_code == 404
    assert client.get("/stores/export.xlsx").status_code == 404
    assert "export.csv" not in client.get("/stores/").text


def test_coordinator_needs_the_export_permission_for_shoppers(client, cast):
    login(client, cast.users["coordinator_y"])
    assert client.get("/shoppers/export.csv").status_code == 404
    assert "export.csv" not in client.get("/shoppers/").text
    cast.users["coordinator_y"].can_export = True
    db.session.flush()
    response = client.get("/shoppers/export.csv")
    assert response.status_code == 200
    assert "shopper.a@example.com" in response.text


def test_export_with_the_permission_offers_and_serves_the_file(client, cast):
    login(client, cast.users["coordinator_x"])
    assert "export.csv" in client.get("/stores/").text
    response = client.get("/stores/export.xlsx")
    assert response.status_code == 200
    assert response.data.startswith(b"PK")
    assert client.get("/stores/export.pdf").status_code == 404


def test_shopper_cannot_export_even_with_the_flag(client, cast):
    cast.users["shopper_a"].can_export = True
    db.session.flush()
    login(client, cast.users["shopper_a"])
    assert client.get("/stores/export.csv").status_code == 404
    assert client.get("/shoppers/export.csv").status_code == 404
