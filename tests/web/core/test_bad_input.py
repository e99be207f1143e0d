"""Bad input that used to give a 500 or bad data: numbers past what a database column
holds in addresses, filters and page numbers; NUL characters; shoppers saved without
their list fields; and downloads of personal data left in caches. The route fuzz
(test_route_fuzz.py) tries every route; these tests spell the rules out."""

import pytest
from sqlalchemy import select, update

from auditapp.extensions import db
from auditapp.models import Client, ShopperProfile
from tests.conftest import csrf_token, login
from tests.web.access._cast import build_cast

HUGE = [str(2**31), str(2**63), str(2**64), str(10**30), "0"]


@pytest.fixture
def cast(make_client, make_region, make_store, make_user, make_shopper):
    return build_cast(make_client, make_region, make_store, make_user, make_shopper)


@pytest.fixture
def admin(client, cast):
    return login(client, cast.users["admin"])


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    "address",
    ["/stores/{}", "/shoppers/{}", "/clients/{}/edit", "/waves/{}", "/notifications/{}",
     "/evidence/{}/thumb", "/payments/runs/{}.csv", "/actions/{}/photos/1"],
)  # fmt: skip
def test_an_id_no_row_can_have_in_the_address_is_not_found(admin, address, number):
    assert admin.get(address.format(number)).status_code == 404


def test_ids_up_to_the_largest_a_row_can_have_are_looked_up(admin):
    assert admin.get(f"/stores/{2**31 - 1}").status_code == 404  # looked up, not there


@pytest.mark.parametrize("number", HUGE)
def test_a_filter_naming_an_id_no_row_can_have_is_ignored(admin, cast, number):
    for query in (f"client={number}", f"region={number}"):
        page = admin.get(f"/stores/?{query}")
        assert page.status_code == 200, query
        assert "North one" in page.text and "Y one" in page.text, query


@pytest.mark.parametrize("address", ["/reports/", "/payments/", "/actions/", "/appeals/rates"])
def test_report_and_list_filters_past_the_database_range_are_ignored(admin, address):
    for name in ("client", "wave", "region", "store"):
        assert admin.get(f"{address}?{name}={2**64}").status_code in (200, 302), name


@pytest.mark.parametrize("page", [str(2**63), str(10**30), "-5", "abc", "9" * 5000])
def test_a_page_number_that_is_no_page_shows_the_first_page(admin, page):
    response = admin.get(f"/stores/?page={page}")
    assert response.status_code == 200
    assert "North one" in response.text


def test_a_nul_character_in_the_address_is_a_bad_request(admin):
    """PostgreSQL cannot hold one in text; the query failed with a 500 there."""
    assert admin.get("/stores/?q=%00").status_code == 400
    assert admin.get("/shoppers/?q=ab%00c").status_code == 400
    assert admin.get("/stores/?a%00=1").status_code == 400
    assert admin.get("/stores/?q=fine&q=%00").status_code == 400


def test_a_nul_character_in_a_form_is_a_bad_request_and_nothing_is_saved(admin):
    fields = {"code": "NUL", "name": "Bad\x00name", "rotation_days": "90"}
    response = admin.post("/clients/new", data={"csrf_token": csrf_token(admin), **fields})
    assert response.status_code == 400
    assert db.session.scalar(select(Client.id).where(Client.code == "NUL")) is None


# --- shoppers without languages or qualifications ----------------------------------------


def test_a_shopper_saved_without_the_list_fields_gets_empty_lists(admin):
    fields = {
        "email": "new.shopper@example.com", "name": "New Shopper", "gender": "undisclosed",
        "certification_level": "1", "reliability": "80", "active": "y",
    }  # fmt: skip
    response = admin.post("/shoppers/new", data={"csrf_token": csrf_token(admin), **fields})
    assert response.status_code == 302
    shown = admin.get(response.location)
    assert shown.status_code == 200
    profile_id = int(response.location.rsplit("/", 1)[-1])
    profile = db.session.get(ShopperProfile, profile_id)
    assert (profile.languages, profile.qualifications) == ([], [])


def test_a_shopper_stored_with_null_lists_still_shows_and_exports(admin, cast):
    """Rows saved by the old code hold JSON null: they read as no languages."""
    db.session.execute(
        update(ShopperProfile)
        .where(ShopperProfile.id == cast.shopper_a.id)
        .values(languages=None, qualifications=None)
    )
    db.session.commit()
    db.session.expire_all()
    assert admin.get(f"/shoppers/{cast.shopper_a.id}").status_code == 200
    for fmt in ("csv", "xlsx"):
        assert admin.get(f"/shoppers/export.{fmt}").status_code == 200, fmt
    assert "shopper.a@example.com" in admin.get("/shoppers/export.csv").text


# --- downloads of personal data ------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["/shoppers/export.csv", "/shoppers/export.xlsx", "/stores/export.csv"]
)
def test_exports_of_personal_data_are_never_stored_by_a_cache(admin, address):
    response = admin.get(address)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_pages_keep_their_own_caching(admin):
    assert "no-store" not in admin.get("/stores/").headers.get("Cache-Control", "")
