"""Builds the data of bench/load.py inside the deployment it runs against, through the
app's own services, and writes what the simulated shoppers need as JSON.

    .venv/bin/python bench/load_data.py OUT.json --shoppers 200

Run with the deployment's AUDITAPP_* environment, after `flask db upgrade`. It makes
one client with a store for every ten shoppers (open round the clock, so any hour
of the run lies inside the store's hours), the starter retail checklist (two photo
questions) published, an open wave, the shoppers (all with one password, hashed
once) and one visit each whose window is now: even-numbered ones checked in (in
progress), odd-numbered ones accepted. A reviewer of the client returns some of the
submitted visits during the run, which is what sends mail.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402
from auditapp import create_app  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from auditapp.models import REVIEWER, utcnow  # noqa: E402
from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit, Wave  # noqa: E402
from auditapp.services.checklists import versions as checklists  # noqa: E402
from auditapp.services.core.passwords import hash_password  # noqa: E402
from auditapp.services.org import records as org  # noqa: E402
from auditapp.services.visits import form as visit_form  # noqa: E402

PASSWORD = "load-password-2026"  # noqa: S105 - a throw-away deployment's accounts
SHOPPERS_PER_STORE = 10
STORE_ZONE = "Asia/Shanghai"
LATITUDE, LONGITUDE = Decimal("31.230400"), Decimal("121.473700")


def answer_fields(checklist: scoring.Checklist, now_local: Any) -> dict[str, str]:
    """A complete, valid answer for every visible non-photo question, as form fields."""
    fields: dict[str, str] = {}
    answers: dict[str, Any] = {}
    for question in checklist.questions():
        value: str | None
        if question.type == "photo":
            continue
        if question.type == "date":
            value = now_local.date().isoformat()
        elif question.type == "time":
            value = now_local.strftime("%H:%M")
        elif question.type in ("yes_no", "choice") and question.options:
            value = max(question.options, key=lambda o: o.points or 0).value
        elif question.type == "yes_no":
            value = "yes"
        elif question.type == "scale":
            value = str(int(question.max or 5))
        elif question.type == "nps":
            value = "9"
        elif question.type == "number":
            value = str(int(question.min or 0) + 1)
        elif question.type == "text":
            value = "Load test: everything as the standard asks." if question.required else None
        else:
            value = None
        if value is None:
            continue
        answers[question.key] = value
        if question.key in scoring.visible_keys(checklist, answers):
            fields[f"q_{question.key}"] = value
    fields["comment_overall"] = "Friendly staff, clean store, short queue."
    return fields


def draft_steps(fields: dict[str, str], steps: int = 3) -> list[dict[str, str]]:
    """What autosave sends as the shopper fills the form: growing prefixes of it."""
    names = list(fields)
    return [
        {name: fields[name] for name in names[: len(names) * (i + 1) // steps]}
        for i in range(steps)
    ]


def build(shoppers: int) -> dict[str, Any]:
    now = utcnow().replace(microsecond=0)
    client = org.save_client(None, {"code": "LOAD", "name": "Load Test Mart"})
    region = org.save_region(None, client, {"code": "LR", "name": "Load region", "kind": "region"})
    hours = {d: ["00:00", "23:59"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    stores = [
        org.save_store(
            None,
            client,
            region,
            {
                "code": f"L{n:03d}",
                "name": f"Load store {n}",
                "city": "Shanghai",
                "timezone": STORE_ZONE,
                "opening_hours": hours,
                "latitude": LATITUDE,
                "longitude": LONGITUDE,
            },
        )
        for n in range(max(1, -(-shoppers // SHOPPERS_PER_STORE)))
    ]
    checklist = checklists.copy_starter("retail_visit", client, None)
    db.session.flush()
    version = checklists.publish(checklist.versions[0], None)
    scored = checklists.scoring_checklist(version)
    photo_keys = [q.key for q in scored.questions() if q.type == "photo"]
    wave = Wave(
        client=client,
        checklist_version=version,
        name="Load wave",
        status="open",
        starts_on=now.date() - timedelta(days=1),
        ends_on=now.date() + timedelta(days=30),
        stores=stores,
    )
    db.session.add(wave)
    password_hash = hash_password(PASSWORD)  # argon2 is slow on purpose: once for everyone
    profiles = []
    for n in range(shoppers):
        profile = org.save_shopper(
            None,
            {
                "email": f"shopper{n:04d}@load.auditapp.cn",
                "name": f"Load Shopper {n}",
                "home_city": "Shanghai",
                "home_latitude": LATITUDE,
                "home_longitude": LONGITUDE,
            },
        )
        profile.user.password_hash = password_hash
        profiles.append(profile)
    reviewer = org.save_user(
        None, {"email": "reviewer@load.auditapp.cn", "name": "Load Reviewer", "role": REVIEWER}
    )
    reviewer.clients = [client]
    reviewer.password_hash = password_hash
    # The window is now: the visit started 20-40 minutes ago and is sent within it.
    start = now - timedelta(minutes=45)
    visits = [
        Visit(
            wave=wave,
            store=stores[n // SHOPPERS_PER_STORE],
            checklist_version=version,
            slot="midday",
            window_start=start,
            window_end=start + timedelta(hours=2),
            status=PLANNED,
        )
        for n in range(shoppers)
    ]
    db.session.add_all(visits)
    db.session.flush()
    # The database takes a new visit as planned only, then one step at a time.
    for status in (ASSIGNED, ACCEPTED):
        for visit, profile in zip(visits, profiles, strict=True):
            visit.shopper, visit.status = profile, status
            visit.assigned_at = visit.assigned_at or now - timedelta(days=2)
            visit.accepted_at = now - timedelta(days=1) if status == ACCEPTED else None
        db.session.flush()
    for n, (visit, profile) in enumerate(zip(visits, profiles, strict=True)):
        visit_form.confirm_briefing(visit)
        if n % 2 == 0:
            visit_form.start_visit(visit, profile.user, True, str(LATITUDE), str(LONGITUDE), "12")
            visit.started_at = now - timedelta(minutes=20 + n % 20)
    db.session.commit()
    local = now.astimezone(ZoneInfo(STORE_ZONE))
    fields = answer_fields(scored, local)
    return {
        "password": PASSWORD,
        "shoppers": [
            {"email": p.user.email, "visit_id": v.id, "status": v.status}
            for p, v in zip(profiles, visits, strict=True)
        ],
        "reviewer": reviewer.email,
        "photo_questions": photo_keys,
        "fields": fields,
        "drafts": draft_steps(fields),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shoppers", type=int, default=200)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        data = build(args.shoppers)
    args.out.write_text(json.dumps(data, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
