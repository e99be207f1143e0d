"""The coordinator's wave screens: set-up and its validation, scope, generating the
visits of a 40-store wave, direct assignment, rescheduling, cancelling, adding a
visit, the next wave, the board and the progress dashboard, and who may see them.
CSRF stays on: every POST carries the session's token.

``world`` (tests/web/worlds/waves.py, shared with the schedule and calibration visit
tests) builds client X with a region tree and 40 stores in Shanghai (8 of tier A, 12
of B, 20 of C) plus 2 in Hangzhou, client Y with one store, and a published checklist
version for each client.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from auditapp.extensions import db
from auditapp.models import OutboxMail
from auditapp.models.waves import ASSIGNED, CANCELLED, PLANNED, Visit, VisitEvent, Wave
from auditapp.services.waves import setup as waves
from auditapp.services.waves.plan import WEEKDAY_KEYS, apportion
from tests.conftest import count_queries, login
from tests.web.statuses import walk_to
from tests.web.worlds.waves import MARCH, form_data, make_wave, post
from tests.web.worlds.waves import world as world  # noqa: F401 (a fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def field_error(page, field_id):
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page.text)
    return match.group(1) if match else None


# --- set-up and validation -------------------------------------------------------------


def test_a_coordinator_creates_a_wave_through_the_form(client, world):
    web = login(client, world.coordinator)
    response = post(web, "/waves/new", form_data(world))
    assert response.status_code == 302, response.text
    wave = db.session.scalars(select(Wave).where(Wave.name == "April 2031")).one()
    assert wave.client_id == world.x.id and wave.checklist_version_id == world.published.id
    assert wave.scope == {"regions": [world.north.id], "tiers": ["A", "B"]}
    assert wave.visits_per_tier == {"A": 4, "B": 2, "C": 1}
    assert wave.slot_quotas == {"opening": 25, "midday": 25, "peak": 30, "closing": 20}
    assert (wave.fee, wave.expense_cap, wave.min_duration_minutes) == (Decimal("80"), 50, 15)
    assert wave.allow_audio and wave.purchase == "One tea set"
    north = [s for i, s in enumerate(world.stores) if i % 3 in (0, 1) and s.tier in "AB"]
    assert sorted(s.code for s in wave.stores) == sorted(s.code for s in north)
    page = web.get(response.location)
    assert f"{len(north)} stores" in page.text and "Ask for a gift" in page.text


def test_an_unpublished_version_is_refused_next_to_the_field_and_nothing_typed_is_lost(
    client, world
):
    web = login(client, world.coordinator)
    page = post(web, "/waves/new", form_data(world, checklist_version_id=world.draft.id))
    assert page.status_code == 422
    assert "Only a published checklist version" in field_error(page, "checklist_version_id")
    assert 'value="April 2031"' in page.text and "Ask for a gift for a 60-year-old" in page.text
    assert db.session.scalar(select(func.count(Wave.id))) == 0


def test_another_clients_version_is_refused(client, world):
    web = login(client, world.admin)  # sees both clients' versions in the list
    page = post(web, "/waves/new", form_data(world, checklist_version_id=world.published_y.id))
    assert page.status_code == 422
    assert "belongs to another client" in field_error(page, "checklist_version_id")
    assert db.session.scalar(select(func.count(Wave.id))) == 0


def test_slot_shares_must_add_up_to_100(client, world):
    web = login(client, world.coordinator)
    page = post(web, "/waves/new", form_data(world, share_peak="40"))
    assert page.status_code == 422
    message = re.search(r'<p class="error" id="shares-error"[^>]*>([^<]*)</p>', page.text)
    assert message and "add up to 110%" in message.group(1)
    assert re.search(r'id="share_peak"[^>]*value="40"', page.text)
    assert 'value="80.00"' in page.text  # the fee typed is still there
    assert db.session.scalar(select(func.count(Wave.id))) == 0


@pytest.mark.parametrize("fee", ["1e20", "NaN", "1e999999999", "12345678901", "-1", "9" * 5000])
def test_a_hostile_or_too_large_fee_is_refused_next_to_the_field(client, world, fee):
    web = login(client, world.coordinator)
    page = post(web, "/waves/new", form_data(world, fee=fee))
    assert page.status_code == 422
    assert field_error(page, "fee")
    assert 'value="April 2031"' in page.text  # nothing typed is lost
    assert db.session.scalar(select(func.count(Wave.id))) == 0


def test_unknown_store_codes_and_other_clients_regions_are_refused(client, world):
    web = login(client, world.admin)
    page = post(
        web, "/waves/new",
        form_data(world, store_codes="X01, NOPE", regions=[world.north.id, world.y.regions[0].id]),
    )  # fmt: skip
    assert page.status_code == 422
    assert "NOPE" in field_error(page, "store_codes")
    assert "X01, NOPE" in page.text
    assert "regions of the wave" in field_error(page, "regions")


def test_editing_keeps_the_setup_and_changes_it(client, world):
    wave = make_wave(world)
    web = login(client, world.coordinator)
    page = web.get(f"/waves/{wave.id}/edit")
    assert re.search(r'id="share_peak"[^>]*value="30"', page.text)
    data = form_data(world, name="March (moved)", starts_on="2031-03-01", ends_on="2031-03-31",
                     regions=[], tiers=["C"], store_codes="X00")  # fmt: skip
    assert post(web, f"/waves/{wave.id}/edit", data).status_code == 302
    db.session.refresh(wave)
    assert wave.name == "March (moved)"
    expected = {s.code for s in world.stores if s.tier == "C"} | {"X00"}
    assert {s.code for s in wave.stores} == expected


# --- scope ---------------------------------------------------------------------------


def _codes(world, scope):
    return {s.code for s in waves.stores_in_scope(world.x, scope)}


def test_scope_takes_the_region_subtree_tiers_formats_and_an_explicit_list(world):
    north_subtree = {s.code for i, s in enumerate(world.stores) if i % 3 in (0, 1)}
    assert _codes(world, {"regions": [world.north.id]}) == north_subtree
    only_ne = {s.code for i, s in enumerate(world.stores) if i % 3 == 1}
    assert _codes(world, {"regions": [world.north_east.id]}) == only_ne
    assert _codes(world, {"tiers": ["A"]}) == {f"X{i:02d}" for i in range(8)}
    banks = {s.code for s in world.stores if s.format == "bank_branch"}
    assert _codes(world, {"formats": ["bank_branch"]}) == banks
    both = {s.code for i, s in enumerate(world.stores) if i % 3 == 2 and s.tier == "A"}
    assert _codes(world, {"regions": [world.south.id], "tiers": ["A"]}) == both
    listed = {world.stores[3].id, world.remote[0].id}
    assert _codes(world, {"stores": sorted(listed)}) == {"X03", "H0"}
    assert _codes(world, {"tiers": ["A"], "stores": [world.stores[30].id]}) == {
        *(f"X{i:02d}" for i in range(8)), "X30",
    }  # fmt: skip
    everything = _codes(world, {})
    assert "XCLOSED" not in everything and "Y1" not in everything and len(everything) == 42
    # A region of another client selects nothing of this one.
    assert _codes(world, {"regions": [world.y.regions[0].id]}) == set()


# --- generating visits -------------------------------------------------------------------


def test_generate_visits_for_a_40_store_wave_by_tier_and_slot_quota(client, world):
    wave = make_wave(world, scope={"regions": [world.north.id, world.south.id]})
    assert len(wave.stores) == 40
    web = login(client, world.coordinator)
    page = post(web, f"/waves/{wave.id}/generate")
    assert page.status_code == 200
    visits = db.session.scalars(select(Visit).where(Visit.wave_id == wave.id)).all()
    assert "76 visits generated" in page.text and len(visits) == 8 * 4 + 12 * 2 + 20 * 1
    per_store = Counter(v.store_id for v in visits)
    for store in world.stores:
        assert per_store[store.id] == {"A": 4, "B": 2, "C": 1}[store.tier], store.code
    assert Counter(v.slot for v in visits) == apportion(76, wave.slot_quotas)
    # The weekend share holds, except for visits of bank branches, closed at weekends.
    stores = {s.id: s for s in world.stores}
    weekend = [v for v in visits if v.window_start.astimezone(SHANGHAI).weekday() >= 5]
    banks = [v for v in visits if stores[v.store_id].format == "bank_branch"]
    wanted = apportion(76, {"weekend": 30, "weekday": 70})["weekend"]
    assert not any(stores[v.store_id].format == "bank_branch" for v in weekend)
    assert wanted - len(banks) <= len(weekend) <= wanted and len(weekend) > 0.2 * 76
    for v in visits:
        start, end = v.window_start.astimezone(SHANGHAI), v.window_end.astimezone(SHANGHAI)
        hours = stores[v.store_id].opening_hours[WEEKDAY_KEYS[start.weekday()]]
        assert hours and hours[0] <= f"{start:%H:%M}" < f"{end:%H:%M}" <= hours[1]
        assert MARCH[0] <= start.date() <= MARCH[1]
        assert v.status == PLANNED and v.checklist_version_id == world.published.id
    # The four visits of a tier-A store fall in the four quarters of the month.
    first_a = sorted(v.window_start for v in visits if v.store_id == world.stores[0].id)
    assert [d.astimezone(SHANGHAI).day for d in first_a] == sorted(
        d.astimezone(SHANGHAI).day for d in first_a
    ) and first_a[-1] - first_a[0] > timedelta(days=14)
    # Generating again adds nothing: every store already has its visits.
    again = post(web, f"/waves/{wave.id}/generate")
    assert "0 visits generated" in again.text
    assert db.session.scalar(select(func.count(Visit.id)).where(Visit.wave_id == wave.id)) == 76


def test_generate_lists_the_store_slots_that_cannot_be_placed(client, world):
    # A bank branch closes at 17:00 and at weekends; a wave of only Saturday and Sunday
    # leaves it without any slot.
    bank = next(s for s in world.stores if s.format == "bank_branch")
    wave = make_wave(world, starts_on=date(2031, 3, 1), ends_on=date(2031, 3, 2), cadence="weekly",
                     scope={"stores": [bank.id]})  # fmt: skip
    page = post(login(client, world.coordinator), f"/waves/{wave.id}/generate")
    assert page.status_code == 200
    unplaced = re.search(r'<ul id="unplaced">(.*?)</ul>', page.text, re.S).group(1)
    assert bank.code in unplaced and "slot open on any day of the period" in unplaced


# --- direct assignment, reschedule, cancel --------------------------------------------------


@pytest.fixture
def two_shoppers(world, make_shopper):
    """Ann lives next to the stores; Bob has a conflict with client X."""
    ann = make_shopper(
        "ann@example.com",
        name="Ann",
        certification_level=3,
        home_latitude=Decimal("31.230000"),
        home_longitude=Decimal("121.470000"),
    )
    bob = make_shopper("bob@example.com", name="Bob", certification_level=3,
                       home_latitude=Decimal("31.230000"), home_longitude=Decimal("121.470000"),
                       conflict_clients=[world.x])  # fmt: skip
    low = make_shopper(
        "low@example.com",
        name="Lou",
        certification_level=1,
        home_latitude=Decimal("31.230000"),
        home_longitude=Decimal("121.470000"),
    )
    db.session.commit()
    return ann, bob, low


def _wave_with_visits(world):
    wave = make_wave(world, scope={"stores": [world.stores[0].id, world.stores[2].id]})
    visits, _unplaced = waves.generate_visits(wave, world.coordinator)
    db.session.commit()
    return wave, sorted(visits, key=lambda v: v.window_start)


def test_direct_assignment_ranks_eligible_shoppers_explains_the_others_and_mails(
    client, world, two_shoppers
):
    ann, bob, low = two_shoppers
    _wave, visits = _wave_with_visits(world)
    visit = visits[0]
    web = login(client, world.coordinator)
    page = web.get(f"/waves/visits/{visit.id}")
    eligible = re.search(r'<table class="list" id="eligible">(.*?)</table>', page.text, re.S)
    assert f'data-shopper="{ann.id}"' in eligible.group(1)
    excluded = re.search(r'<details id="excluded">(.*?)</details>', page.text, re.S).group(1)
    bob_line = re.search(rf'data-shopper="{bob.id}">(.*?)</li>', excluded, re.S).group(1)
    assert "conflict of interest with the client" in bob_line
    lou_line = re.search(rf'data-shopper="{low.id}">(.*?)</li>', excluded, re.S).group(1)
    assert "level 1; the visit needs level 2" in lou_line

    response = post(web, f"/waves/visits/{visit.id}/assign", {"shopper_id": ann.id})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert (visit.status, visit.shopper_id) == (ASSIGNED, ann.id)
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to == "ann@example.com")).one()
    assert visit.store.name in mail.subject
    events = db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, PLANNED), (PLANNED, ASSIGNED)]
    assert events[-1].actor_id == world.coordinator.id


def test_an_excluded_shopper_cannot_be_assigned(client, world, two_shoppers):
    _ann, bob, _low = two_shoppers
    _wave, visits = _wave_with_visits(world)
    web = login(client, world.coordinator)
    response = post(web, f"/waves/visits/{visits[0].id}/assign", {"shopper_id": bob.id})
    assert response.status_code == 302
    assert "conflict of interest" in web.get(response.location).text
    db.session.refresh(visits[0])
    assert visits[0].status == PLANNED and visits[0].shopper_id is None
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_reassigning_moves_the_visit_to_another_shopper(client, world, two_shoppers, make_shopper):
    ann, _bob, _low = two_shoppers
    cy = make_shopper(
        "cy@example.com",
        name="Cy",
        certification_level=2,
        home_latitude=Decimal("31.240000"),
        home_longitude=Decimal("121.480000"),
    )
    db.session.commit()  # fmt: skip
    _wave, visits = _wave_with_visits(world)
    web = login(client, world.coordinator)
    post(web, f"/waves/visits/{visits[0].id}/assign", {"shopper_id": ann.id})
    post(web, f"/waves/visits/{visits[0].id}/assign", {"shopper_id": cy.id})
    db.session.refresh(visits[0])
    assert (visits[0].status, visits[0].shopper_id) == (ASSIGNED, cy.id)
    to_cy = select(func.count(OutboxMail.id)).where(OutboxMail.to == "cy@example.com")
    assert db.session.scalar(to_cy) == 1


def test_reschedule_into_an_overlapping_time_of_the_same_shopper_is_refused(
    client, world, two_shoppers
):
    ann, _bob, _low = two_shoppers
    _wave, visits = _wave_with_visits(world)
    first = visits[0]
    second = next(
        v for v in visits if v.store_id != first.store_id and v.window_start >= first.window_end
    )
    web = login(client, world.coordinator)
    for visit in (first, second):
        post(web, f"/waves/visits/{visit.id}/assign", {"shopper_id": ann.id})
        db.session.refresh(visit)
        assert visit.shopper_id == ann.id
    target = first.window_start.astimezone(SHANGHAI)
    before = (second.window_start, second.window_end)
    page = post(web, f"/waves/visits/{second.id}/reschedule", {
        "move-day": target.date().isoformat(), "move-start": f"{target:%H:%M}",
        "move-end": f"{target + timedelta(minutes=30):%H:%M}",
    })  # fmt: skip
    assert page.status_code == 409
    assert "already has a visit at that time" in field_error(page, "move-day")
    db.session.expire_all()
    assert (second.window_start, second.window_end) == before


def test_reschedule_reads_the_store_local_time_and_keeps_to_opening_hours(
    client, world, two_shoppers
):
    _wave, visits = _wave_with_visits(world)
    visit = visits[0]
    web = login(client, world.coordinator)
    page = post(
        web,
        f"/waves/visits/{visit.id}/reschedule",
        {"move-day": "2031-03-12", "move-start": "08:00", "move-end": "09:00"},
    )
    assert page.status_code == 422 and "open from 09:00 to 21:00" in page.text  # fmt: skip
    response = post(
        web,
        f"/waves/visits/{visit.id}/reschedule",
        {"move-day": "2031-03-12", "move-start": "12:15", "move-end": "13:00"},
    )
    assert response.status_code == 302  # fmt: skip
    db.session.refresh(visit)
    assert visit.window_start == datetime(2031, 3, 12, 4, 15, tzinfo=UTC)
    assert visit.window_end == datetime(2031, 3, 12, 5, 0, tzinfo=UTC)
    assert "Wed 2031-03-12 12:15–13:00" in web.get(f"/waves/visits/{visit.id}").text
    outside = post(
        web,
        f"/waves/visits/{visit.id}/reschedule",
        {"move-day": "2031-04-02", "move-start": "12:00", "move-end": "13:00"},
    )
    assert outside.status_code == 409 and "inside the wave" in outside.text  # fmt: skip


def test_cancel_needs_a_note_and_frees_the_shopper(client, world, two_shoppers):
    ann, _bob, _low = two_shoppers
    _wave, visits = _wave_with_visits(world)
    visit = visits[0]
    web = login(client, world.coordinator)
    post(web, f"/waves/visits/{visit.id}/assign", {"shopper_id": ann.id})
    page = post(web, f"/waves/visits/{visit.id}/cancel", {"cancel-note": ""})
    assert page.status_code == 422 and field_error(page, "cancel-note")
    response = post(web, f"/waves/visits/{visit.id}/cancel", {"cancel-note": "Store refit"})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert visit.status == CANCELLED
    event = db.session.scalars(
        select(VisitEvent).where(VisitEvent.visit_id == visit.id).order_by(VisitEvent.id.desc())
    ).first()
    assert (event.from_status, event.to_status, event.note) == (ASSIGNED, CANCELLED, "Store refit")


def test_a_coordinator_adds_a_visit_to_a_store_of_the_wave(client, world):
    wave = make_wave(world, scope={"stores": [world.stores[3].id]})  # a bank branch
    web = login(client, world.coordinator)
    url = f"/waves/{wave.id}/visits"
    data = {"add-store_id": world.stores[3].id, "add-day": "2031-03-08", "add-slot": "midday"}
    page = post(web, url, data)  # a Saturday: the bank is closed
    assert page.status_code == 422 and "no such time slot" in field_error(page, "add-slot")
    page = post(web, url, {**data, "add-day": "2031-04-08"})
    assert page.status_code == 422 and "inside the wave" in field_error(page, "add-day")
    response = post(web, url, {**data, "add-day": "2031-03-10", "add-slot": "peak"})
    assert response.status_code == 302
    visit = db.session.scalars(select(Visit).where(Visit.wave_id == wave.id)).one()
    assert visit.window_start.astimezone(SHANGHAI).time() == time(14)  # bank peak 14-16
    assert (visit.status, visit.slot) == (PLANNED, "peak")
    other = post(web, url, {**data, "add-store_id": world.stores[4].id})
    assert other.status_code == 422  # not a store of this wave


def test_create_next_wave_copies_the_setup_for_the_next_period(client, world):
    wave = make_wave(world, fee=Decimal("88"), scenario="Return a gift", claim_limit=5)
    web = login(client, world.coordinator)
    response = post(web, f"/waves/{wave.id}/next")
    assert response.status_code == 302
    new = db.session.scalars(select(Wave).where(Wave.previous_wave_id == wave.id)).one()
    assert (new.starts_on, new.ends_on) == (date(2031, 4, 1), date(2031, 4, 30))
    for name in ("client_id", "checklist_version_id", "cadence", "scope", "visits_per_tier",
                 "slot_quotas", "weekend_share", "fee", "claim_limit", "scenario",
                 "required_level", "max_travel_km"):  # fmt: skip
        assert getattr(new, name) == getattr(wave, name), name
    assert {s.id for s in new.stores} == {s.id for s in wave.stores}
    assert response.location.endswith(f"/waves/{new.id}")


# --- board, progress, list --------------------------------------------------------------------


def _apart(visits):
    """Visits whose windows do not overlap one another (one shopper may hold them all)."""
    chosen = []
    for v in sorted(visits, key=lambda v: v.window_start):
        if all(v.window_start >= c.window_end for c in chosen):
            chosen.append(v)
    return chosen


def _set_status(visit, status, shopper):
    walk_to(visit, status, shopper_id=shopper.id)


def test_progress_counts_per_region_with_subtrees(client, world, two_shoppers):
    ann, _bob, _low = two_shoppers
    wave = make_wave(world, scope={"regions": [world.north.id]})
    visits, _ = waves.generate_visits(wave, world.coordinator)
    db.session.flush()
    by_region = {s.id: s.region_id for s in world.stores}
    ne = sorted((v for v in visits if by_region[v.store_id] == world.north_east.id),
                key=lambda v: v.id)  # fmt: skip
    # Statuses set directly (the review flow is another screen); windows do not overlap.
    plan = ["assigned", "accepted", "submitted", "approved", "missed", "cancelled"]
    for visit, status in zip(_apart(ne), plan, strict=False):
        _set_status(visit, status, ann)
    db.session.commit()
    page = login(client, world.coordinator).get(f"/waves/{wave.id}/progress")
    assert page.status_code == 200

    def row(region_id):
        html = re.search(rf'data-region="{region_id}">(.*?)</tr>', page.text, re.S).group(1)
        return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">.*?(\d+)</td>', html, re.S)}

    n_ne, n_all = len(ne), len(visits)
    assert row(world.north_east.id) == {
        "planned": n_ne - 1, "unfilled": n_ne - 6, "assigned": 4, "accepted": 3,
        "completed": 2, "approved": 1, "missed": 1, "cancelled": 1,
    }  # fmt: skip
    assert row(world.north.id)["planned"] == n_all - 1  # North includes North-east
    assert row(world.north.id)["unfilled"] == n_all - 6
    assert row("all")["assigned"] == 4
    listing = login(client, world.coordinator).get("/waves/")
    assert "March 2031" in listing.text


def test_board_groups_filters_and_does_not_grow_queries_with_visits(
    app, client, world, two_shoppers
):
    ann, _bob, _low = two_shoppers
    wave = make_wave(world)
    visits, _ = waves.generate_visits(wave, world.coordinator)
    db.session.flush()
    for visit in _apart(visits)[:3]:
        _set_status(visit, ASSIGNED, ann)
    db.session.commit()
    web = login(client, world.coordinator)
    web.get(f"/waves/{wave.id}/board")  # warm up (session, user)
    counts = {}
    for by in ("day", "store", "shopper"):
        with count_queries(app) as statements:
            page = web.get(f"/waves/{wave.id}/board?by={by}")
        assert page.status_code == 200
        counts[by] = len(statements)
    # Whatever the number of visits (84 here): the wave, the user, the regions, the
    # page count, the page with its stores, regions and shoppers, the per-region sums,
    # and the top bar's count of unread alerts.
    assert counts == {"day": 8, "store": 8, "shopper": 8}, counts
    page = web.get(f"/waves/{wave.id}/board?by=shopper")
    assert "<h2>Ann" in page.text and "Unassigned" in page.text
    by_store = web.get(f"/waves/{wave.id}/board?by=store")
    assert f"{world.stores[0].code} · {world.stores[0].name}" in by_store.text
    unfilled = web.get(f"/waves/{wave.id}/board?status=unfilled&region={world.north.id}")
    rows = re.findall(r'data-visit="(\d+)"', unfilled.text)
    north = {s.id for i, s in enumerate(world.stores) if i % 3 in (0, 1)}
    expected = {v.id for v in visits if v.store_id in north and v.status == PLANNED}
    assert {int(r) for r in rows} == expected
    counts_html = re.search(
        r'<ul class="wv-regions" id="region-counts">(.*?)</ul>', page.text, re.S
    )
    assert "3 filled" in counts_html.group(1)
    # A region of another client is not a filter, it is a 404.
    assert web.get(f"/waves/{wave.id}/board?region={world.y.regions[0].id}").status_code == 404


# --- who may see what ----------------------------------------------------------------------


def test_a_coordinator_of_another_client_gets_404_for_everything(client, world, two_shoppers):
    ann, _bob, _low = two_shoppers
    wave, visits = _wave_with_visits(world)
    visit = visits[0]
    web = login(client, world.other)
    assert "March 2031" not in web.get("/waves/").text
    for url in (f"/waves/{wave.id}", f"/waves/{wave.id}/edit", f"/waves/{wave.id}/board",
                f"/waves/{wave.id}/progress", f"/waves/visits/{visit.id}"):  # fmt: skip
        assert web.get(url).status_code == 404, url
    posts = {
        f"/waves/{wave.id}/edit": form_data(world),
        f"/waves/{wave.id}/generate": {},
        f"/waves/{wave.id}/auto-schedule": {},
        f"/waves/{wave.id}/next": {},
        f"/waves/{wave.id}/visits": {"add-store_id": world.stores[0].id, "add-day": "2031-03-10",
                                     "add-slot": "midday"},
        f"/waves/visits/{visit.id}/assign": {"shopper_id": ann.id},
        f"/waves/visits/{visit.id}/release": {},
        f"/waves/visits/{visit.id}/reschedule": {"move-day": "2031-03-12", "move-start": "12:00",
                                                 "move-end": "13:00"},
        f"/waves/visits/{visit.id}/cancel": {"cancel-note": "no"},
    }  # fmt: skip
    for url, data in posts.items():
        assert post(web, url, data).status_code == 404, url
    # ...and a wave of client X cannot be created by them either.
    page = post(web, "/waves/new", form_data(world))
    assert page.status_code == 422 and db.session.scalar(select(func.count(Wave.id))) == 1
    db.session.refresh(visit)
    assert visit.status == PLANNED and visit.shopper_id is None
    assert db.session.scalar(select(func.count(Visit.id))) == len(visits)
