"""Shopper calibration on the web: the service's figures against a hand computation,
only approved visits counting, client scoping, the warning, the coordinator page,
the section on a shopper's page, and who may see them.

The scene (client X, two waves; differences = score - mean of the other shoppers'
approved visits of that store in that wave):

    W1/S1: A 80, B 70, C 60      -> A +15, B 0, C -15
    W1/S2: A 90, B 84            -> A +6, B -6
    W2/S1: A 75, C 70, C 71      -> A +4.5, C -5, C -4
    W2/S3: B 50 alone            -> no comparison

    A: (15 + 6 + 4.5) / 3 = +8.5, n 3, 2 stores  -> beyond 8 points: warned
    C: (-15 - 5 - 4) / 3  = -8.0, n 3, 1 store   -> exactly 8 points: not warned
    B: (0 - 6) / 2        = -3.0, n 2            -> too few comparisons

Noise that must change nothing for client X: D's submitted (score 0) and returned
(score 5) visits to W1/S1, an approved visit without a score there, and planned or
cancelled ones. Client Y has one wave at store Y1: A 100, D 0 (both approved).
"""

import re
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import APPROVED, RETURNED, SUBMITTED
from auditapp.services.visits.calibration import (
    Leniency,
    client_ids_for,
    leniency_by_shopper,
    leniency_of,
)
from tests.conftest import count_queries, login, page_text
from tests.web.access.my_visits import make_visit, make_wave
from tests.web.statuses import walk_to


@pytest.fixture
def scene(make_client, make_region, make_store, make_user, make_shopper):
    x = make_client("X", name="Client X")
    y = make_client("Y", name="Client Y")
    rx, ry = make_region(x, "RX"), make_region(y, "RY")
    s1, s2, s3 = (make_store(x, rx, code) for code in ("S1", "S2", "S3"))
    y1 = make_store(y, ry, "Y1")
    a, b, c, d = (make_shopper(f"{n}@example.com", name=f"Shopper {n.upper()}") for n in "abcd")
    w1, w2 = make_wave(x, [s1, s2, s3], name="W1"), make_wave(x, [s1, s3], name="W2")
    wy = make_wave(y, [y1], name="WY")
    clock = iter(range(1, 1000))

    def visit(wave, store, shopper, score, status=APPROVED):
        start = (
            utcnow().replace(microsecond=0) - timedelta(days=30) + timedelta(hours=3 * next(clock))
        )
        v = walk_to(make_visit(wave, store, start, shopper=shopper), status)
        v.score = None if score is None else Decimal(score)
        db.session.flush()
        return v

    for wave, store, shopper, score in [
        (w1, s1, a, "80"), (w1, s1, b, "70"), (w1, s1, c, "60"),
        (w1, s2, a, "90"), (w1, s2, b, "84"),
        (w2, s1, a, "75"), (w2, s1, c, "70.0000"), (w2, s1, c, "71"),
        (w2, s3, b, "50"),
        (wy, y1, a, "100"), (wy, y1, d, "0"),
    ]:  # fmt: skip
        visit(wave, store, shopper, score)
    visit(w1, s1, d, "0", SUBMITTED)
    visit(w1, s1, d, "5", RETURNED)
    visit(w1, s1, d, None)  # approved, but no score
    make_visit(w1, s1, utcnow() + timedelta(days=3))  # planned, nobody yet
    visit(w1, s1, d, "1", "cancelled")
    users = {
        "admin": make_user("cal.admin@example.com", "admin"),
        "coord_x": make_user("cal.cx@example.com", "coordinator", clients=[x]),
        "coord_y": make_user("cal.cy@example.com", "coordinator", clients=[y]),
        "rev_x": make_user("cal.rx@example.com", "reviewer", clients=[x]),
        "shopper": a.user,
        "rm": make_user("cal.rm@example.com", "regional_manager", client=x, regions=[rx]),
    }
    return SimpleNamespace(x=x, y=y, a=a, b=b, c=c, d=d, users=users)


def _figures(app, client_ids):
    with app.app_context():
        return leniency_by_shopper(client_ids)


def _rows(html):
    """(shopper id, row text) in page order."""
    found = re.findall(r'<tr data-shopper="(\d+)"[^>]*>(.*?)</tr>', html, re.S)
    return [(int(sid), " ".join(page_text(row).split())) for sid, row in found]


# --- the service ---------------------------------------------------------------------


def test_index_matches_the_hand_computation(app, scene):
    got = _figures(app, [scene.x.id])
    assert got[scene.a.id] == Leniency(
        scene.a.id, Decimal("8.5"), Fraction(17, 2), Decimal("8.5"),
        n=3, stores=2, visits=3, enough=True, warn=True,
    )  # fmt: skip
    assert got[scene.c.id] == Leniency(
        scene.c.id, Decimal("-8.0"), Fraction(-8), Decimal("8.0"),
        n=3, stores=1, visits=3, enough=True, warn=False,
    )  # fmt: skip
    assert got[scene.b.id] == Leniency(
        scene.b.id, Decimal("-3.0"), Fraction(-3), Decimal("3.0"),
        n=2, stores=2, visits=3, enough=False, warn=False,
    )  # fmt: skip
    assert (got[scene.a.id].direction, got[scene.c.id].direction) == ("lenient", "harsh")


def test_only_approved_scored_visits_count(app, scene):
    # D has only submitted, returned, cancelled and unscored visits at client X.
    got = _figures(app, [scene.x.id])
    assert set(got) == {scene.a.id, scene.b.id, scene.c.id}


def test_client_scope_decides_which_visits_count(app, scene):
    only_y = _figures(app, [scene.y.id])
    assert set(only_y) == {scene.a.id, scene.d.id}
    assert only_y[scene.a.id].index == Decimal("100.0") and only_y[scene.a.id].n == 1
    assert not only_y[scene.a.id].warn  # one comparison proves nothing yet
    everything = _figures(app, None)
    # A over both clients: (15 + 6 + 4.5 + 100) / 4 = 31.375
    assert everything[scene.a.id].index_exact == Fraction(251, 8)
    assert everything[scene.a.id].index == Decimal("31.4")
    assert everything[scene.d.id].index == Decimal("-100.0")
    assert _figures(app, [scene.x.id, scene.y.id]) == everything
    assert _figures(app, []) == {}


def test_one_shopper_alone_agrees_with_the_whole_table(app, scene):
    with app.app_context():
        for client_ids in ([scene.x.id], [scene.y.id], None, []):
            table = leniency_by_shopper(client_ids)
            for shopper in (scene.a, scene.b, scene.c, scene.d):
                assert leniency_of(shopper.id, client_ids) == table.get(shopper.id)


def test_each_figure_costs_one_query(app, scene):
    a, x = scene.a.id, scene.x.id
    with app.app_context(), count_queries(app) as statements:
        leniency_by_shopper(None)
        leniency_of(a, [x])
    assert len(statements) == 2, "\n".join(s[:60] for s in statements)


def test_the_thresholds_come_from_the_configuration(app, scene, monkeypatch):
    monkeypatch.setitem(app.config, "CALIBRATION_MIN_COMPARISONS", 2)
    monkeypatch.setitem(app.config, "CALIBRATION_WARN_POINTS", 2.9)
    got = _figures(app, [scene.x.id])
    assert got[scene.b.id].enough and got[scene.b.id].warn  # |-3.0| > 2.9
    monkeypatch.setitem(app.config, "CALIBRATION_WARN_POINTS", 3)
    assert not _figures(app, [scene.x.id])[scene.b.id].warn  # shown as 3.0: not beyond 3


def test_whose_clients_count(app, scene):
    with app.app_context():
        assert client_ids_for(scene.users["admin"]) is None
        assert client_ids_for(scene.users["coord_x"]) == [scene.x.id]
        assert client_ids_for(scene.users["rev_x"]) == [scene.x.id]
        assert client_ids_for(scene.users["rm"]) == []
        assert client_ids_for(scene.users["shopper"]) == []


# --- the calibration page ------------------------------------------------------------


def test_coordinator_page_lists_the_warned_first_with_words_and_n(client, scene):
    html = login(client, scene.users["coord_x"]).get("/shoppers/calibration").text
    rows = _rows(html)
    assert [sid for sid, _ in rows] == [scene.a.id, scene.c.id, scene.b.id]
    a, c, b = (text for _, text in rows)
    assert "Shopper A" in a and "+8.5" in a and "more lenient than peers" in a
    assert "Beyond ±8 points" in a
    assert "-8.0" in c and "harsher than peers" in c and "Beyond" not in c
    assert "Not enough comparisons yet" in b and "Beyond" not in b
    assert re.search(r"Comparisons: 3 .*Stores compared: 2 .*Mean gap: 8\.5", a)
    assert f'href="/shoppers/{scene.a.id}"' in html
    text = page_text(html)
    assert "Shopper D" not in text
    assert "same store in the same wave" in text  # how to read it


def test_coordinator_of_y_sees_nothing_of_client_x(client, scene):
    html = login(client, scene.users["coord_y"]).get("/shoppers/calibration").text
    rows = dict(_rows(html))
    assert set(rows) == {scene.a.id, scene.d.id}
    assert "Not enough comparisons yet" in rows[scene.a.id]
    assert "Comparisons: 1" in rows[scene.a.id]
    assert "8.5" not in page_text(html)
    assert client.get(f"/shoppers/calibration?client={scene.x.id}").status_code == 404


def test_admin_sees_every_client_and_may_choose_one(client, scene):
    login(client, scene.users["admin"])
    rows = dict(_rows(client.get("/shoppers/calibration").text))
    assert "+31.4" in rows[scene.a.id]
    chosen = client.get(f"/shoppers/calibration?client={scene.x.id}")
    assert "+8.5" in dict(_rows(chosen.text))[scene.a.id]
    assert client.get("/shoppers/calibration?client=999999").status_code == 404
    assert client.get("/shoppers/calibration?client=nope").status_code == 404


def test_reviewer_sees_the_page_but_no_profile_links(client, scene):
    html = login(client, scene.users["rev_x"]).get("/shoppers/calibration").text
    assert [sid for sid, _ in _rows(html)] == [scene.a.id, scene.c.id, scene.b.id]
    assert f'href="/shoppers/{scene.a.id}"' not in html
    assert 'href="/shoppers/calibration"' in html  # their navigation leads here


@pytest.mark.parametrize("member", ["shopper", "rm"])
def test_shoppers_and_client_users_never_see_it(client, scene, member):
    login(client, scene.users[member])
    assert client.get("/shoppers/calibration").status_code == 404


def test_the_shoppers_list_links_to_the_page(client, scene):
    html = login(client, scene.users["coord_x"]).get("/shoppers/").text
    assert 'href="/shoppers/calibration"' in html


def test_nothing_to_compare_yet(client, make_user):
    user = make_user("cal.empty@example.com", "coordinator")
    html = login(client, user).get("/shoppers/calibration").text
    assert "No approved visits yet." in page_text(html)


# --- the section on a shopper's page -------------------------------------------------


def _section(client, shopper):
    html = client.get(f"/shoppers/{shopper.id}").text
    match = re.search(r'<section class="card cal-section".*?</section>', html, re.S)
    assert match, "no calibration section"
    return " ".join(page_text(match.group(0)).split())


def test_shopper_page_shows_index_n_and_warning(client, scene):
    login(client, scene.users["coord_x"])
    a = _section(client, scene.a)
    assert "+8.5" in a and "more lenient than peers" in a and "Beyond ±8 points" in a
    assert "Comparisons 3" in a and "Stores compared 2" in a
    c = _section(client, scene.c)
    assert "-8.0" in c and "harsher than peers" in c and "Beyond" not in c
    b = _section(client, scene.b)
    assert "Not enough comparisons yet" in b and "Beyond" not in b
    assert "No comparisons yet" in _section(client, scene.d)


def test_shopper_page_counts_only_the_viewers_clients(client, scene):
    login(client, scene.users["coord_y"])
    a = _section(client, scene.a)
    assert "+100.0" in a and "Comparisons 1" in a and "Beyond" not in a
    assert "No comparisons yet" in _section(client, scene.c)
