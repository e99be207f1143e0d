"""Today's demo, built once for the tests of this module (``demo``, conftest.py), each
test's writes rolled back after it: every part of the product at work (as on the awkward
days of test_demo_review.py); question reliability and shopper-adjusted scores (one wave
has calibration visits whose pairs were approved, shoppers disagree on at least one
(vague) question while most questions hold up, strict and lenient shoppers visit the
client that shows adjusted scores, and its store pages show them); and a running wave
whose visits the demo shopper can claim, after a closed one."""

from collections import defaultdict

from sqlalchemy import select

from auditapp.demo.visits import LENIENCY, VAGUE_QUESTIONS, leniency
from auditapp.extensions import db
from auditapp.models import Checklist, ChecklistVersion, Client, ShopperProfile, User, utcnow
from auditapp.models.waves import APPROVED, Visit, VisitEvent, Wave
from auditapp.services.reporting.reliability import MIN_PAIRED_UNITS, reliability_for
from auditapp.services.waves.scheduling import shopboard
from tests.conftest import login
from tests.web.worlds.demo import (
    assert_follow_up_in_every_state,
    assert_review_queue_results_and_pay,
    assert_shopper_has_visits_to_claim,
)


def test_demo_builds_every_part_today(app, demo):
    with app.test_request_context():
        assert_review_queue_results_and_pay()
        assert_shopper_has_visits_to_claim()
        assert_follow_up_in_every_state()
    assert {role for role, _email, _password in demo} >= {"admin", "shopper"}


def test_demo_has_calibration_pairs_a_vague_question_and_lenient_shoppers(client, demo):
    waves = db.session.scalars(select(Wave).where(Wave.calibration_share > 0)).all()
    assert waves, "a demo wave plans calibration visits"
    wave = waves[0]
    pairs = defaultdict(set)
    for visit in db.session.scalars(
        select(Visit).where(Visit.wave_id == wave.id, Visit.status == APPROVED)
    ):
        pairs[(visit.store_id, visit.slot, visit.window_start)].add(visit.shopper_id)
    approved_pairs = [shoppers for shoppers in pairs.values() if len(shoppers) == 2]
    assert len(approved_pairs) >= MIN_PAIRED_UNITS
    assert any(v.calibration for v in wave.visits)

    checklist = db.session.scalars(
        select(Checklist)
        .join(ChecklistVersion)
        .where(ChecklistVersion.id == wave.checklist_version_id)
    ).one()
    found = {r.key: r for r in reliability_for(checklist, None)}
    vague = {key for key, r in found.items() if r.verdict == "too_vague"}
    reliable = {key for key, r in found.items() if r.verdict == "reliable"}
    assert vague & set(VAGUE_QUESTIONS), found
    assert len(reliable) > len(vague), "most questions hold up"

    page = login(client, demo_admin()).get(f"/checklists/{checklist.id}")
    assert page.status_code == 200
    assert "Too vague to trust" in page.text

    jade = db.session.scalars(select(Client).where(Client.code == "JADE")).one()
    visited = db.session.execute(
        select(Visit.shopper_id, Visit.store_id, Visit.wave_id)
        .join(Wave)
        .where(Wave.client_id == jade.id, Visit.status == APPROVED)
    ).all()
    leniencies = {leniency(db.session.get(ShopperProfile, row[0])) for row in visited}
    # Both strict and lenient shoppers visit Jade Mart. How far the model can tell them
    # apart depends on the visits' other noise (a knock-out's zero weighs heavily).
    assert min(leniencies) < -LENIENCY / 3 and max(leniencies) > LENIENCY / 3
    assert jade.adjusted_scores
    _shopper, store_id, wave_id = visited[0]
    page = client.get(f"/reports/stores/{store_id}?wave={wave_id}")
    assert 'id="store-adjusted"' in page.text and "Adjusted for who visited" in page.text


def test_demo_has_a_running_wave_with_visits_the_demo_shopper_can_claim(app, demo):
    with app.test_request_context():
        waves = db.session.scalars(db.select(Wave).order_by(Wave.starts_on)).all()
        today = utcnow().date()
        running = [w for w in waves if w.status == "open" and w.starts_on <= today <= w.ends_on]
        closed = [w for w in waves if w.status == "closed" and w.ends_on < today]
        assert running and closed
        for wave in closed:
            statuses = {v.status for v in wave.visits}
            assert statuses <= {"approved", "returned", "missed", "cancelled"}
            assert "approved" in statuses
            assert all(v.window_end < utcnow() for v in wave.visits)
        assert {w.previous_wave_id for w in running} == {w.id for w in closed}
        assert all(w.checklist_version.is_published for w in waves)

        shopper = db.session.scalars(
            db.select(ShopperProfile).join(User).where(User.email == "shopper@demo.auditapp.cn")
        ).one()
        board = shopboard(shopper)
        assert len(board) >= 3
        assert all(v.wave in running and v.window_start > utcnow() for v, _km in board)
        assert [km for _v, km in board] == sorted(km for _v, km in board)
        mine = db.session.scalars(db.select(Visit).where(Visit.shopper_id == shopper.id)).all()
        assert [v.status for v in mine] == ["returned"]  # last wave's, waiting for changes
        assert db.session.scalar(db.select(db.func.count(VisitEvent.id))) > 0


def demo_admin():
    return db.session.scalars(select(User).where(User.email == "admin@demo.auditapp.cn")).one()
