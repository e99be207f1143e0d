"""The list pages: query counts that do not grow with the rows (no N+1), search,
filters and pagination."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from auditapp.extensions import db
from auditapp.models import Store, utcnow
from tests.conftest import count_queries, login, page_text


def queries_for(app, client, url):
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def codes_on(page_text):
    return re.findall(r"<tr[^>]*>\s*<td>([A-Z]+-?\d+)</td>", page_text)


@pytest.fixture
def acme(make_client, make_region):
    client = make_client("ACME", name="Acme")
    north = make_region(client, "NORTH", name="North")
    area = make_region(client, "NAREA", parent=north, name="North area", kind="area")
    south = make_region(client, "SOUTH", name="South")
    return client, north, area, south


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin")


# --- query counts -------------------------------------------------------------------


def add_stores(make_store, client, regions, start, count):
    for i in range(start, start + count):
        make_store(client, regions[i % len(regions)], f"S{i:03d}", tier="ABC"[i % 3])


@pytest.mark.parametrize("viewer", ["admin", "regional_manager", "coordinator"])
def test_store_list_query_count_does_not_grow_with_rows(
    app, client, acme, make_client, make_region, make_store, make_user, viewer
):
    acme_client, north, area, south = acme
    other = make_client("OTHER")
    make_store(other, make_region(other, "O"), "O1")  # two clients: the list names them
    users = {
        "admin": lambda: make_user("a@example.com", "admin"),
        "regional_manager": lambda: make_user(
            "rm@example.com", "regional_manager", client=acme_client, regions=[north, south]
        ),
        "coordinator": lambda: make_user(
            "c@example.com", "coordinator", clients=[acme_client, other]
        ),
    }
    login(client, users[viewer]())
    add_stores(make_store, acme_client, [north, area, south], 0, 5)
    few = queries_for(app, client, "/stores/")
    add_stores(make_store, acme_client, [north, area, south], 5, 25)
    many = queries_for(app, client, "/stores/")
    assert few == many
    assert many <= 9  # with the top bar's unread-alerts count for managers


def test_shopper_list_query_count_does_not_grow_with_rows(
    app, client, admin, acme, make_store, make_shopper
):
    acme_client, north, *_ = acme
    store = make_store(acme_client, north, "S1")

    def add(start, count):
        for i in range(start, start + count):
            make_shopper(
                f"s{i:02d}@example.com",
                conflict_clients=[acme_client],
                conflict_stores=[store],
                languages=["zh"],
            )

    login(client, admin)
    add(0, 5)
    few = queries_for(app, client, "/shoppers/")
    add(5, 25)
    many = queries_for(app, client, "/shoppers/")
    assert few == many
    assert many <= 8


def test_user_list_query_count_does_not_grow_with_rows(app, client, admin, acme, make_user):
    acme_client, north, *_ = acme

    def add(start, count):
        for i in range(start, start + count):
            if i % 2:
                make_user(f"u{i:02d}@example.com", "coordinator", clients=[acme_client])
            else:
                make_user(
                    f"u{i:02d}@example.com", "regional_manager", client=acme_client, regions=[north]
                )

    login(client, admin)
    add(0, 5)
    few = queries_for(app, client, "/users/")
    add(5, 25)
    many = queries_for(app, client, "/users/")
    assert few == many
    assert many <= 8


def test_client_list_query_count_does_not_grow_with_rows(
    app, client, admin, make_client, make_region, make_store
):
    def add(start, count):
        for i in range(start, start + count):
            c = make_client(f"C{i:02d}")
            make_store(c, make_region(c, "R"), "S1")

    login(client, admin)
    add(0, 5)
    few = queries_for(app, client, "/clients/")
    add(5, 25)
    many = queries_for(app, client, "/clients/")
    assert few == many
    assert many <= 6


# --- stores: search, filters, pagination ----------------------------------------------------


@pytest.fixture
def stores(acme, make_store):
    acme_client, north, area, south = acme
    return {
        "N1": make_store(acme_client, north, "N1", name="Nanjing Road", tier="A", city="Shanghai"),
        "A1": make_store(acme_client, area, "A1", name="Pudong Mall", tier="B", city="Shanghai"),
        "S1": make_store(acme_client, south, "S1", name="Tianhe Plaza", tier="A", city="Guangzhou"),
        "S2": make_store(acme_client, south, "S2", name="Beijing Road", tier="C", city="Guangzhou"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=road", ["N1", "S2"]),
        ("q=GUANGZHOU", ["S1", "S2"]),
        ("q=a1", ["A1"]),
        ("tier=A", ["N1", "S1"]),
        ("tier=A&q=tianhe", ["S1"]),
        ("q=nothing-like-it", []),
    ],
)
def test_store_search_and_tier_filter(client, admin, stores, query, expected):
    response = login(client, admin).get(f"/stores/?{query}")
    assert codes_on(response.text) == expected


def test_region_filter_takes_the_whole_subtree(client, admin, acme, stores):
    _client, north, area, south = acme
    login(client, admin)
    assert codes_on(client.get(f"/stores/?region={north.id}").text) == ["A1", "N1"]
    assert codes_on(client.get(f"/stores/?region={area.id}").text) == ["A1"]
    assert codes_on(client.get(f"/stores/?region={south.id}").text) == ["S1", "S2"]


def test_stale_filter_shows_only_stores_not_updated_for_long(app, client, admin, stores):
    old = utcnow() - timedelta(days=app.config["STORE_STALE_AFTER_DAYS"] + 1)
    db.session.execute(update(Store).where(Store.code == "S2").values(updated_at=old))
    login(client, admin)
    page = client.get("/stores/?stale=1").text
    assert codes_on(page) == ["S2"]
    assert "stale" in page


def test_store_list_pages_through_all_rows(client, admin, acme, make_store):
    acme_client, north, *_ = acme
    add_stores(make_store, acme_client, [north], 0, 30)
    login(client, admin)
    first = client.get("/stores/").text
    second = client.get("/stores/?page=2").text
    assert codes_on(first) == [f"S{i:03d}" for i in range(25)]
    assert codes_on(second) == [f"S{i:03d}" for i in range(25, 30)]
    assert "Page 1 of 2" in first
    assert "30 stores" in first
    assert "page=2" in first
    assert codes_on(client.get("/stores/?page=9").text) == []


def test_store_pager_keeps_the_filters(client, admin, acme, make_store):
    acme_client, north, *_ = acme
    add_stores(make_store, acme_client, [north], 0, 30)  # tiers cycle A, B, C
    login(client, admin)
    page = client.get("/stores/?q=S0&tier=A").text  # S000..S099 → 10 of tier A
    assert len(codes_on(page)) == 10
    assert "Page" not in page_text(page)


# --- shoppers, users, clients: search and filters ------------------------------------------


def test_shopper_search_and_active_filter(client, admin, make_shopper):
    make_shopper("li@example.com", name="Li Wei", home_city="Shanghai")
    make_shopper("wang@example.com", name="Wang Fang", home_city="Beijing", active=False)
    login(client, admin)
    page = page_text(client.get("/shoppers/?q=shanghai").text)
    assert "Li Wei" in page and "Wang Fang" not in page
    page = page_text(client.get("/shoppers/?active=no").text)
    assert "Wang Fang" in page and "Li Wei" not in page
    page = page_text(client.get("/shoppers/?q=wang%40").text)
    assert "Wang Fang" in page and "Li Wei" not in page


def test_shopper_list_pages(client, admin, make_shopper):
    for i in range(27):
        make_shopper(f"s{i:02d}@example.com", name=f"Shopper {i:02d}")
    login(client, admin)
    first = client.get("/shoppers/").text
    assert "Shopper 24" in first and "Shopper 25" not in first
    assert "Shopper 26" in client.get("/shoppers/?page=2").text


def test_user_search_and_role_filter(client, admin, make_user):
    make_user("zhao@example.com", "coordinator", name="Zhao")
    make_user("qian@example.com", "reviewer", name="Qian")
    login(client, admin)
    page = page_text(client.get("/users/?role=reviewer").text)
    assert "Qian" in page and "Zhao" not in page
    page = page_text(client.get("/users/?q=zhao").text)
    assert "Zhao" in page and "Qian" not in page


def test_client_search(client, admin, make_client):
    make_client("ACME", name="Acme Stores")
    make_client("BETA", name="Beta Banking")
    page = login(client, admin).get("/clients/?q=bank").text
    assert "Beta Banking" in page and "Acme Stores" not in page
