"""Seeds what the offline visit-form browser tests need, on top of seed.py: a shopper
with two accepted visits of a published checklist that has a conditional question
(with a stopwatch), a photo question and a second section with another condition.

Run by tests/e2e/test_visit_form_offline.py as ``python tests/e2e/seed_visit_form.py``
after seed.py, with the same AUDITAPP_* environment as the server.
"""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from auditapp import create_app
from auditapp.extensions import db
from auditapp.models import Client, utcnow
from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.core import accounts
from auditapp.services.org import records as org

SHOPPER = "shopper.offline@demo.auditapp.cn"
PASSWORD = "demo-password-2026"
STORES = (("JM-OFF-1", "Offline one 离线一店"), ("JM-OFF-2", "Offline two 离线二店"))

DOCUMENT = {
    "title": "Branch visit (offline test)",
    "language": "en",
    "sections": [
        {
            "key": "arrival",
            "title": "Arrival",
            "questions": [
                {"key": "greeted", "text": "Were you greeted?", "type": "yes_no",
                 "required": True},
                {"key": "greeting_s", "text": "Seconds until you were greeted",
                 "type": "number", "min": 0, "max": 3600,
                 "bands": [{"max": 30, "points": 1}, {"points": 0}],
                 "show_if": {"question": "greeted", "equals": "yes"}},
                {"key": "entrance_photo", "text": "Photo of the entrance", "type": "photo",
                 "required": True},
            ],
        },
        {
            "key": "service",
            "title": "Service",
            "questions": [
                {"key": "badge", "text": "Did the staff member wear a name badge?",
                 "type": "yes_no"},
                {"key": "badge_note", "text": "What did you see instead?", "type": "text",
                 "show_if": {"question": "badge", "equals": "no"}},
                {"key": "offers", "text": "Which products were offered?", "type": "multi",
                 "options": [
                     {"value": "card", "label": "Credit card", "points": 1},
                     {"value": "loan", "label": "Loan", "points": 1},
                     {"value": "fund", "label": "Fund", "points": 1},
                 ]},
                {"key": "queue", "text": "People waiting in the queue", "type": "number",
                 "min": 0, "max": 50, "bands": [{"max": 3, "points": 1}, {"points": 0}]},
            ],
        },
    ],
}  # fmt: skip


def seed() -> None:
    app = create_app()
    with app.app_context():
        client = db.session.scalars(select(Client).where(Client.code == "JADE")).one()
        region = org.save_region(None, client, {"code": "OFF", "name": "Offline", "kind": "region"})
        hours = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        stores = [
            org.save_store(None, client, region, {
                "code": code, "name": name, "city": "Shanghai", "opening_hours": hours,
                "latitude": Decimal("31.230400"), "longitude": Decimal("121.473700"),
            })
            for code, name in STORES
        ]  # fmt: skip
        checklist = checklists.create_checklist(client, "", None, DOCUMENT)
        version = checklists.publish(checklist.versions[0], None)
        profile = org.save_shopper(None, {"email": SHOPPER, "name": "王芳 Wang Fang"})
        accounts.set_password(profile.user, PASSWORD)
        today = utcnow().date()
        wave = Wave(
            client=client, checklist_version=version, name="Offline wave", status="open",
            starts_on=today - timedelta(days=5), ends_on=today + timedelta(days=25),
            stores=stores,
        )  # fmt: skip
        db.session.add(wave)
        start = utcnow().replace(microsecond=0, second=0) + timedelta(hours=2)
        for day, store in enumerate(stores):  # a day apart: one shopper, no overlap
            begin = start + timedelta(days=day)
            visit = Visit(
                wave=wave, store=store, checklist_version=version, slot="midday",
                window_start=begin, window_end=begin + timedelta(hours=1), status=PLANNED,
                assigned_at=begin - timedelta(days=3), accepted_at=begin - timedelta(days=2),
            )  # fmt: skip
            db.session.add(visit)
            db.session.flush()
            # The database takes a new visit as planned only, then one step at a time.
            for status in (ASSIGNED, ACCEPTED):
                visit.shopper, visit.status = profile, status
                db.session.flush()
        db.session.commit()


if __name__ == "__main__":
    seed()
