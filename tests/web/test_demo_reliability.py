"""The demo shows question reliability and shopper-adjusted scores at work: one wave
has calibration visits whose pairs were approved, shoppers disagree on at least one
(vague) question while most questions hold up, strict and lenient shoppers visit
the client that shows adjusted scores, and its store pages show them."""

from collections import defaultdict

from sqlalchemy import select

from auditapp.demo.visits import LENIENCY, VAGUE_QUESTIONS, leniency
from auditapp.extensions import db
from auditapp.models import Checklist, ChecklistVersion, Client, ShopperProfile
from auditapp.models.waves import APPROVED, Visit, Wave
from auditapp.services.reporting.reliability import MIN_PAIRED_UNITS, reliability_for
from tests.conftest import login


def test_demo_has_calibration_pairs_a_vague_question_and_lenient_shoppers(
    app, client, monkeypatch, tmp_path
):
    from auditapp import demo

    monkeypatch.setattr(demo, "hash_password", lambda _password: "not-a-real-hash")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    with app.test_request_context():
        demo.build_demo()
        db.session.commit()

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


def demo_admin():
    from auditapp.models import User

    return db.session.scalars(select(User).where(User.email == "admin@demo.auditapp.cn")).one()
