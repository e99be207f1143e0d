"""The organisation: region trees, store codes, stale store files, the store and
user forms."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from auditapp.errors import Conflict, DomainError
from auditapp.extensions import db
from auditapp.models import Store, User, utcnow
from auditapp.services.org import records as org
from tests.conftest import csrf_token, login


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin")


@pytest.fixture
def tree(make_client, make_region, make_store):
    """North > North area > District, and South; a store in the district."""
    acme = make_client("ACME")
    north = make_region(acme, "NORTH")
    area = make_region(acme, "NAREA", parent=north, kind="area")
    district = make_region(acme, "NDIST", parent=area, kind="district")
    south = make_region(acme, "SOUTH")
    store = make_store(acme, district, "D1", name="District store")
    return acme, north, area, district, south, store


def test_region_paths_follow_the_tree(tree):
    _acme, north, area, district, south, _store = tree
    assert north.path == f"/{north.id}/"
    assert area.path == f"/{north.id}/{area.id}/"
    assert district.path == f"/{north.id}/{area.id}/{district.id}/"
    assert (north.depth, area.depth, district.depth) == (0, 1, 2)


def test_moving_a_region_moves_its_subtree_and_its_stores_out_of_the_old_scope(
    client, admin, make_user, tree
):
    acme, north, area, district, south, store = tree
    rm_north = make_user("rmn@example.com", "regional_manager", client=acme, regions=[north])
    rm_south = make_user("rms@example.com", "regional_manager", client=acme, regions=[south])
    assert login(client, rm_north).get(f"/stores/{store.id}").status_code == 200

    login(client, admin)
    response = client.post(
        f"/clients/regions/{area.id}/edit",
        data={
            "csrf_token": csrf_token(client),
            "code": "NAREA",
            "name": "Moved area",
            "kind": "area",
            "parent_id": str(south.id),
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(area)
    db.session.refresh(district)
    assert area.path == f"/{south.id}/{area.id}/"
    assert district.path == f"/{south.id}/{area.id}/{district.id}/"
    assert area.parent_id == south.id

    assert login(client, rm_north).get(f"/stores/{store.id}").status_code == 404
    assert "District store" not in client.get("/stores/").text
    assert login(client, rm_south).get(f"/stores/{store.id}").status_code == 200


def test_a_region_cannot_move_under_its_own_subtree(tree):
    acme, north, _area, district, _south, _store = tree
    with pytest.raises(DomainError):
        org.save_region(north, acme, {"code": "NORTH", "name": "North", "parent": district})


def test_region_form_does_not_offer_its_own_subtree_as_parent(client, admin, tree):
    _acme, north, area, district, south, _store = tree
    page = login(client, admin).get(f"/clients/regions/{area.id}/edit").text
    assert f'value="{south.id}"' in page
    assert f'value="{north.id}"' in page
    assert f'value="{district.id}"' not in page


def test_region_code_is_unique_per_client(tree):
    acme, *_ = tree
    with pytest.raises(Conflict):
        org.save_region(None, acme, {"code": "north", "name": "Again"})


# --- store codes ------------------------------------------------------------------------


def test_store_code_is_unique_within_a_client(tree, make_store):
    acme, north, *_ = tree
    make_store(acme, north, "S1")
    with pytest.raises(Conflict):
        make_store(acme, north, "S1")


def test_store_code_may_repeat_across_clients(tree, make_client, make_region, make_store):
    other = make_client("OTHER")
    copy = make_store(other, make_region(other, "R"), "D1")
    assert copy.id is not None
    count = db.session.scalar(select(func.count()).select_from(Store).where(Store.code == "D1"))
    assert count == 2


def test_the_database_refuses_a_duplicate_store_code_too(tree):
    acme, north, *_ = tree
    with pytest.raises(IntegrityError):
        db.session.add(Store(client_id=acme.id, region_id=north.id, code="D1", name="Dup"))
        db.session.flush()


def test_store_form_shows_a_duplicate_code_next_to_the_code(client, admin, tree):
    acme, north, *_ = tree
    login(client, admin)
    response = client.post(
        f"/stores/new/{acme.id}", data=store_form(client, north, code="D1", name="Second")
    )
    assert response.status_code == 409
    assert "already uses the code D1" in response.text
    assert 'id="code-error"' in response.text


# --- stale store files ------------------------------------------------------------------


def test_store_is_flagged_stale_after_the_configured_days(app, client, admin, tree, make_store):
    acme, north, *_, store = tree
    fresh = make_store(acme, north, "F1", name="Fresh store")
    days = app.config["STORE_STALE_AFTER_DAYS"]
    db.session.execute(
        update(Store)
        .where(Store.id == store.id)
        .values(updated_at=utcnow() - timedelta(days=days + 1))
    )
    db.session.execute(
        update(Store)
        .where(Store.id == fresh.id)
        .values(updated_at=utcnow() - timedelta(days=days - 1))
    )
    login(client, admin)
    assert "last updated" in client.get(f"/stores/{store.id}").text
    assert "last updated" not in client.get(f"/stores/{fresh.id}").text
    listing = client.get("/stores/").text
    stale_row = listing.split("District store")[1].split("</tr>")[0]
    fresh_row = listing.split("Fresh store")[1].split("</tr>")[0]
    assert "stale" in stale_row
    assert "stale" not in fresh_row


def test_editing_a_store_clears_the_stale_flag(app, client, admin, tree):
    *_, store = tree
    old = utcnow() - timedelta(days=app.config["STORE_STALE_AFTER_DAYS"] + 10)
    db.session.execute(update(Store).where(Store.id == store.id).values(updated_at=old))
    login(client, admin)
    form = store_form(client, store.region, code="D1", name="District store renamed")
    assert client.post(f"/stores/{store.id}/edit", data=form).status_code == 302
    db.session.refresh(store)
    assert store.days_since_update() == 0


# --- the store form -----------------------------------------------------------------------


def store_form(client, region, **values):
    form = {
        "csrf_token": csrf_token(client),
        "code": "N1",
        "name": "New store",
        "region_id": str(region.id),
        "address": "1 Main St",
        "city": "Shanghai",
        "latitude": "31.2304",
        "longitude": "121.4737",
        "timezone": "Asia/Shanghai",
        "format": "specialty",
        "ownership": "direct",
        "tier": "A",
        "status": "active",
        **{f"hours_{d}": "09:00-21:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
        "hours_sun": "closed",
    }
    form.update(values)
    return form


def test_store_form_creates_a_store_with_its_hours(client, admin, tree):
    acme, north, *_ = tree
    login(client, admin)
    response = client.post(f"/stores/new/{acme.id}", data=store_form(client, north))
    assert response.status_code == 302
    store = db.session.scalars(select(Store).where(Store.code == "N1")).one()
    assert store.opening_hours["mon"] == ["09:00", "21:00"]
    assert store.opening_hours["sun"] is None
    assert str(store.latitude) == "31.230400"


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("25:00-21:00", "Write opening hours as 09:00-21:00"),
        ("21:00-09:00", "Closing time must be after opening time"),
        ("nine to five", "Write opening hours as 09:00-21:00"),
    ],
)
def test_bad_hours_show_the_message_by_the_field_and_keep_what_was_typed(
    client, admin, tree, hours, message
):
    acme, north, *_ = tree
    login(client, admin)
    response = client.post(
        f"/stores/new/{acme.id}",
        data=store_form(client, north, name="Kept name", hours_tue=hours),
    )
    assert response.status_code == 200
    field = response.text.split('id="hours_tue"')[1].split("</div>")[0]
    assert message in field
    assert 'id="hours_tue-error"' in field
    assert f'value="{hours}"' in response.text
    assert 'value="Kept name"' in response.text
    assert db.session.scalars(select(Store).where(Store.code == "N1")).first() is None


def test_bad_latitude_shows_the_message_and_keeps_what_was_typed(client, admin, tree):
    acme, north, *_ = tree
    login(client, admin)
    response = client.post(
        f"/stores/new/{acme.id}", data=store_form(client, north, latitude="95.5")
    )
    assert response.status_code == 200
    assert "Latitude must be between -90 and 90" in response.text
    assert 'value="95.5"' in response.text


def test_store_edit_form_shows_the_stored_hours(client, admin, tree):
    *_, store = tree
    page = login(client, admin).get(f"/stores/{store.id}/edit").text
    assert 'name="hours_mon" type="text" value="09:00-21:00"' in page


# --- deactivating people ------------------------------------------------------------------


def test_deactivating_a_shopper_through_the_edit_form(client, admin, make_shopper):
    profile = make_shopper("li@example.com", name="Li")
    login(client, admin)
    response = client.post(
        f"/shoppers/{profile.id}/edit",
        data={
            "csrf_token": csrf_token(client),
            "email": "li@example.com",
            "name": "Li",
            "gender": "undisclosed",
            "certification_level": "1",
            "reliability": "80",
            # "active" left unticked
        },
    )
    assert response.status_code == 302
    db.session.refresh(profile)
    assert profile.active is False
    assert "Li" in client.get("/shoppers/?active=no").text


def test_a_coordinator_editing_a_shopper_keeps_conflicts_they_cannot_see(
    client, make_user, make_shopper, make_client, make_region, make_store
):
    """Coordinator Y neither sees client X's conflicts on the form nor, by saving it,
    removes them: they keep the shopper away from X's stores."""
    client_x, client_y = make_client("X"), make_client("Y")
    store_x = make_store(client_x, make_region(client_x, "RX"), "XS1")
    store_y = make_store(client_y, make_region(client_y, "RY"), "YS1")
    profile = make_shopper(
        "li@example.com", name="Li", conflict_clients=[client_x], conflict_stores=[store_x]
    )
    coordinator_y = make_user("coord.y@example.com", "coordinator", clients=[client_y])
    login(client, coordinator_y)
    assert "X/XS1" not in client.get(f"/shoppers/{profile.id}/edit").text
    response = client.post(
        f"/shoppers/{profile.id}/edit",
        data={
            "csrf_token": csrf_token(client),
            "email": "li@example.com",
            "name": "Li",
            "gender": "undisclosed",
            "certification_level": "1",
            "reliability": "80",
            "active": "y",
            "conflict_stores": "Y/YS1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(profile)
    kept = {(c.client_id, c.store_id) for c in profile.conflicts}
    assert kept == {(client_x.id, None), (None, store_x.id), (None, store_y.id)}


def user_form(client, **values):
    form = {
        "csrf_token": csrf_token(client),
        "email": "someone@example.com",
        "name": "Someone",
        "role": "coordinator",
        "locale": "en",
        "client_id": "0",
        "stores": "",
        "active": "y",
    }
    form.update(values)
    return {k: v for k, v in form.items() if v is not None}


def test_deactivating_a_user_through_the_edit_form_stops_their_sign_in(
    app, client, admin, make_user
):
    someone = make_user("someone@example.com", "coordinator", name="Someone")
    their_browser = login(app.test_client(), someone)
    login(client, admin)
    response = client.post(f"/users/{someone.id}/edit", data=user_form(client, active=None))
    assert response.status_code == 302
    db.session.refresh(someone)
    assert someone.active is False
    assert their_browser.get("/").status_code == 302  # sent to sign in


def test_admin_cannot_deactivate_themselves(client, admin):
    login(client, admin)
    response = client.post(
        f"/users/{admin.id}/edit",
        data=user_form(client, email="admin@example.com", role="admin", active=None),
    )
    assert response.status_code == 200
    assert "cannot remove your own admin access" in response.text
    db.session.refresh(admin)
    assert admin.active is True


def test_regional_manager_cannot_be_saved_without_a_client():
    with pytest.raises(DomainError, match="belong to a client"):
        org.save_user(None, {"email": "rm@example.com", "name": "RM", "role": "regional_manager"})


def test_users_form_refuses_a_regional_manager_without_a_client(client, admin):
    login(client, admin)
    response = client.post(
        "/users/new", data=user_form(client, email="rm@example.com", role="regional_manager")
    )
    assert response.status_code == 400
    assert "Regional and store managers belong to a client." in response.text
    assert db.session.scalars(select(User).where(User.email == "rm@example.com")).first() is None


def test_users_form_keeps_only_regions_of_the_managers_client(
    client, admin, tree, make_client, make_region
):
    acme, north, *_ = tree
    other = make_client("OTHER")
    foreign = make_region(other, "FOREIGN")
    login(client, admin)
    response = client.post(
        "/users/new",
        data=user_form(
            client,
            email="rm@example.com",
            role="regional_manager",
            client_id=str(acme.id),
            regions=[str(north.id), str(foreign.id)],
        ),
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "rm@example.com")).one()
    assert [r.code for r in user.regions] == ["NORTH"]
