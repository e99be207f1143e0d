"""The demo shows question reliability and shopper-adjusted scores at work: one wave
has calibration visits whose pairs were approved, shoppers disagree on at least one
(vague) question while most questions hold up, and shoppers differ in leniency
enough for the adjusted scores to move."""

from collections import defaultdict

import pandas as pd
from sqlalchemy import select

from auditapp.demo_visits import VAGUE_QUESTIONS
from auditapp.extensions import db
from auditapp.models import Checklist, ChecklistVersion, Client
from auditapp.models.waves import APPROVED, Visit, Wave
from auditapp.services.reliability import MIN_PAIRED_UNITS, reliability_for
from reports.adjusted import adjusted_store_scores
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
    rows = db.session.execute(
        select(Visit.store_id, Visit.shopper_id, Visit.score)
        .join(Wave)
        .where(Wave.client_id == jade.id, Visit.status == APPROVED, Visit.score.is_not(None))
    ).all()
    frame = pd.DataFrame(
        [(store, shopper, float(score)) for store, shopper, score in rows],
        columns=["store", "shopper", "score"],
    )
    stores, shoppers = adjusted_store_scores(frame)
    # The model finds a shopper effect (not a variance of zero), so some store's
    # adjusted score differs from its raw one by more than the figure's last decimal.
    assert shoppers["effect"].abs().max() > 0.5, shoppers
    assert (stores["adjusted_mean"] - stores["raw_mean"]).abs().max() > 0.1


def demo_admin():
    from auditapp.models import User

    return db.session.scalars(select(User).where(User.email == "admin@demo.auditapp.cn")).one()
