"""The alerts world, shared by the alert service and page tests.

Client ALR, alert threshold 70, action threshold 50; a pooled checklist of three yes/no
questions, "greeted" critical; a published wave in March:

    North ── North-east ── A1, B1        South ── S1

    coordinator (ALR)  rm.north (North)  rm.direct (store A1 only)  rm.south (South)
    sm.a (A1)  sm.b (B1)  sm.gone (A1, inactive)  other.coord (another client)
    admin, reviewer (ALR): never alerted
"""

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from flask import Flask
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion
from auditapp.models.waves import Wave
from auditapp.services.checklists import versions as checklists

DOC: dict[str, Any] = {
    "title": "Alert audit",
    "language": "en",
    "scoring": {"method": "pooled", "decimals": 1},
    "sections": [
        {"key": "s", "title": "Service", "questions": [
            {"key": "greeted", "text": "Greeted at the door?", "type": "yes_no",
             "critical": True, "translations": {"zh": {"text": "门口有人招呼吗？"}}},
            {"key": "helped", "text": "Helped to choose?", "type": "yes_no"},
            {"key": "clean", "text": "Counter clean?", "type": "yes_no"},
        ]},
    ],
}  # fmt: skip


def build_world(
    app: Flask, make_client: Any, make_region: Any, make_store: Any, make_user: Any,
    make_shopper: Any,
) -> Any:  # fmt: skip
    client = make_client("ALR", name="Alert brand", alert_threshold=70, action_threshold=50)
    north = make_region(client, "N", name="North")
    ne = make_region(client, "NE", parent=north, name="North-east", kind="area")
    south = make_region(client, "S", name="South")
    a = make_store(client, ne, "A1", name="Alpha")
    b = make_store(client, ne, "B1", name="Bravo")
    s = make_store(client, south, "S1", name="Sierra")
    other = make_client("OTH", name="Other brand")
    w = SimpleNamespace(app=app, client=client, north=north, south=south, a=a, b=b, s=s, hour=0)
    w.shopper = make_shopper("sam.alert@example.com", name="Samantha Secret")
    w.coordinator = make_user("coord.alert@example.com", "coordinator", clients=[client])
    w.other_coordinator = make_user("other.alert@example.com", "coordinator", clients=[other])
    w.admin = make_user("admin.alert@example.com", "admin")
    w.reviewer = make_user("rev.alert@example.com", "reviewer", clients=[client])
    w.rm_north = make_user(
        "north.alert@example.com", "regional_manager", client=client, regions=[north]
    )
    w.rm_direct = make_user(
        "direct.alert@example.com", "regional_manager", client=client, stores=[a]
    )
    w.rm_south = make_user(
        "south.alert@example.com", "regional_manager", client=client, regions=[south]
    )
    w.sm_a = make_user("sma.alert@example.com", "store_manager", client=client, stores=[a])
    w.sm_b = make_user("smb.alert@example.com", "store_manager", client=client, stores=[b])
    w.sm_gone = make_user(
        "gone.alert@example.com", "store_manager", client=client, stores=[a], active=False
    )
    checklist = checklists.create_checklist(client, "", None, DOC)
    db.session.flush()
    w.version = checklists.publish(checklist.versions[0], None)
    w.questions = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == w.version.id
            )
        ).all()
    )
    w.wave = make_published_wave(w, "March", 3)
    return w


def make_published_wave(w: Any, name: str, month: int, before: Wave | None = None) -> Wave:
    wave = Wave(
        client=w.client, checklist_version=w.version, name=name, status="open",
        starts_on=date(2026, month, 1), ends_on=date(2026, month, 28),
        stores=[w.a, w.b, w.s], previous_wave=before,
        published_at=datetime(2026, month, 28, 12, tzinfo=UTC),
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return wave
