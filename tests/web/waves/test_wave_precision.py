"""The planner on the wave page (services/waves/precision.py): the pooled standard
deviation of the client's earlier waves against a hand computation, the planner's
figures against reports.planning on that sd, the sentences on the page, and the
no-history message.

The scene (client X; the current wave W3 starts after W1 and W2):

    W1/S1: 80, 70, 90      mean 80, squares 0 + 100 + 100 = 200, df 2
    W1/S2: 60, 64          mean 62, squares 4 + 4 = 8,           df 1
    W2/S1: 75 alone        df 0
    W2/S2: 50, 56, 53, 57  mean 54, squares 16 + 4 + 1 + 9 = 30, df 3

    pooled sd = √(238 / 6) ≈ 6.298 points, df 6

Noise that must change nothing: a submitted and an approved-but-unscored visit in
W1/S1, wild scores in W3 itself and in a later wave W4, and client Y's wave.
"""

import math
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import APPROVED, SUBMITTED
from auditapp.services.waves.precision import TierPrecision, pooled_sd, wave_precision
from reports import planning
from tests.conftest import login, page_text
from tests.web.access.my_visits import make_visit, make_wave
from tests.web.statuses import walk_to

SD = math.sqrt(238 / 6)


@pytest.fixture
def scene(make_client, make_region, make_store, make_user, make_shopper):
    x, y = make_client("X", name="Client X"), make_client("Y", name="Client Y")
    rx, ry = make_region(x, "RX"), make_region(y, "RY")
    s1, s2 = make_store(x, rx, "S1"), make_store(x, rx, "S2")
    y1 = make_store(y, ry, "Y1")
    shopper = make_shopper("prec@example.com")
    today = utcnow().date()
    w1 = make_wave(x, [s1, s2], name="W1", starts_on=today - timedelta(days=100))
    w2 = make_wave(x, [s1, s2], name="W2", starts_on=today - timedelta(days=70))
    w3 = make_wave(
        x, [s1, s2], name="W3", visits_per_tier={"A": 4, "B": 2, "C": 1},
        starts_on=today - timedelta(days=40),
    )  # fmt: skip
    w4 = make_wave(x, [s1, s2], name="W4", starts_on=today - timedelta(days=10))
    wy = make_wave(y, [y1], name="WY", starts_on=today - timedelta(days=100))
    clock = iter(range(1, 1000))

    def visit(wave, store, score, status=APPROVED):
        start = utcnow().replace(microsecond=0) - timedelta(days=30, hours=-3 * next(clock))
        v = walk_to(make_visit(wave, store, start, shopper=shopper), status)
        v.score = None if score is None else Decimal(score)
        db.session.flush()
        return v

    for wave, store, score in [
        (w1, s1, "80"), (w1, s1, "70"), (w1, s1, "90"),
        (w1, s2, "60"), (w1, s2, "64"),
        (w2, s1, "75"),
        (w2, s2, "50"), (w2, s2, "56.0000"), (w2, s2, "53"), (w2, s2, "57"),
        (w3, s1, "0"), (w3, s1, "100"),
        (w4, s2, "0"), (w4, s2, "100"),
        (wy, y1, "0"), (wy, y1, "100"),
    ]:  # fmt: skip
        visit(wave, store, score)
    visit(w1, s1, "0", SUBMITTED)
    visit(w1, s1, None)
    users = {
        "coord_x": make_user("prec.cx@example.com", "coordinator", clients=[x]),
        "coord_y": make_user("prec.cy@example.com", "coordinator", clients=[y]),
    }
    return SimpleNamespace(w1=w1, w3=w3, w4=w4, wy=wy, shopper=shopper, users=users)


def test_pooled_sd_matches_the_hand_computation(app, scene):
    sd, df = pooled_sd(scene.w3)
    assert df == 6
    assert sd == pytest.approx(SD, rel=1e-12)


def test_only_earlier_waves_count(app, scene):
    # W1 has no earlier wave; W4 sees W1, W2 and W3 (whose 0 and 100 add 5000 over df 1).
    assert pooled_sd(scene.w1) == (None, 0)
    sd, df = pooled_sd(scene.w4)
    assert df == 7
    assert sd == pytest.approx(math.sqrt((238 + 5000) / 7), rel=1e-12)


def test_the_planner_follows_reports_planning_on_the_pooled_sd(app, scene):
    found = wave_precision(scene.w3)
    assert found.sd == pytest.approx(SD, rel=1e-12)
    assert [(t.tier, t.visits) for t in found.tiers] == [("A", 4), ("B", 2), ("C", 1)]
    a, b, c = found.tiers
    assert a.half_width == pytest.approx(planning.half_width(SD, 4))
    assert a.power == pytest.approx(planning.power_to_detect(SD, 10, 4))
    assert b.half_width == pytest.approx(planning.half_width(SD, 2))
    assert b.power == pytest.approx(planning.power_to_detect(SD, 10, 2))
    assert (c.half_width, c.power) == (None, None)  # one visit buys neither
    assert c.shown_half_width is None
    assert found.needed == (
        (5, planning.visits_needed(SD, 5)),
        (10, planning.visits_needed(SD, 10)),
    )
    assert found.to_detect == planning.visits_to_detect(SD, 10, 0.8)
    # More visits buy a narrower interval and more power.
    assert a.half_width < b.half_width and a.power > b.power


def test_the_wave_page_shows_what_the_visits_buy(app, client, scene):
    login(client, scene.users["coord_x"])
    page = client.get(f"/waves/{scene.w3.id}")
    assert page.status_code == 200
    text = " ".join(page_text(page.text).split())
    half = "%.1f" % (math.ceil(planning.half_width(SD, 4) * 10) / 10)  # rounded up
    power = math.floor(planning.power_to_detect(SD, 10, 4) * 100)  # rounded down
    assert (
        f"4 visits per store: ± {half} points; a 10-point drop is detected {power}% of the time."
        in text
    )
    assert "1 visit per store: too few for an interval" in text
    assert f"± 5 points: {planning.visits_needed(SD, 5)} visits per store." in text
    detect = planning.visits_to_detect(SD, 10)
    assert f"Detecting a 10-point change 80% of the time: {detect} visits per store" in text
    assert "spread by 6.3 points" in text
    assert 'id="precision-none"' not in page.text


def test_without_history_the_page_says_so(app, client, scene):
    login(client, scene.users["coord_x"])
    text = " ".join(page_text(client.get(f"/waves/{scene.w1.id}").text).split())
    assert "No earlier wave of this client has a store with two scored visits yet" in text
    assert "visits per store: ±" not in text
    # Client Y's only wave has scores, but nothing earlier.
    assert wave_precision(scene.wy).sd is None


def test_the_page_stays_agency_only(app, client, scene):
    login(client, scene.users["coord_y"])
    assert client.get(f"/waves/{scene.w3.id}").status_code == 404
    login(client, scene.shopper.user)
    assert client.get(f"/waves/{scene.w3.id}").status_code in (403, 404)


@pytest.mark.parametrize(
    ("half", "shown"), [(10.02, 10.1), (10.0, 10.0), (9.91, 10.0), (56.5685, 56.6)]
)
def test_the_shown_half_width_is_rounded_up(half, shown):
    assert TierPrecision("A", 4, half, 0.5).shown_half_width == shown


@pytest.mark.parametrize(("power", "shown"), [(0.796, 79), (0.8, 80), (0.0999, 9), (0.57, 57)])
def test_the_shown_power_is_rounded_down(power, shown):
    assert TierPrecision("A", 4, 10.0, power).shown_power == shown


def test_the_coordinator_chooses_the_precision_and_the_change_to_detect(app, client, scene):
    login(client, scene.users["coord_x"])
    page = client.get(f"/waves/{scene.w3.id}?half=3&drop=5")
    text = " ".join(page_text(page.text).split())
    assert f"± 3 points: {planning.visits_needed(SD, 3)} visits per store." in text
    assert f"± 5 points: {planning.visits_needed(SD, 5)} visits per store." in text
    detect = planning.visits_to_detect(SD, 5)
    assert f"Detecting a 5-point change 80% of the time: {detect} visits per store" in text
    power = math.floor(planning.power_to_detect(SD, 5, 4) * 100)
    assert f"a 5-point drop is detected {power}% of the time." in text
    assert 'name="half" type="number" value="3"' in page.text  # the choice stays shown


def test_a_wrong_target_is_named_beside_its_field_and_the_default_used(app, client, scene):
    login(client, scene.users["coord_x"])
    page = client.get(f"/waves/{scene.w3.id}?half=0&drop=abc")
    assert page.status_code == 200
    assert 'id="half-error"' in page.text and 'id="drop-error"' in page.text
    assert 'name="half" type="number" value="0"' in page.text  # what was typed stays
    text = " ".join(page_text(page.text).split())
    detect = planning.visits_to_detect(SD, 10)
    assert f"Detecting a 10-point change 80% of the time: {detect} visits per store" in text
    assert "± 0 points" not in text
