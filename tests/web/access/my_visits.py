"""A shopper's own screens: only shoppers reach them, and only their own visits.
Everyone else who is signed in gets 404. The calendar feed needs no session: its
token (the shopper's id and their random secret) is the key, so it is open to anyone
who has the address; each shopper can change their own.

Also the small builders the visit tests share: a wave and its visits."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.models import Client, ShopperProfile, Store, utcnow
from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.core import calendar
from tests.web.statuses import new_visit

from . import EVERYONE, SHOPPER_A, SHOPPER_B, Route


def make_wave(client: Client, stores: list[Store], **kw: Any) -> Wave:
    """An open wave on a draft checklist (the checklist does not matter here)."""
    checklist = checklists.create_checklist(client, f"Checklist {client.code}", None)
    today = utcnow().date()
    wave = Wave(
        client=client,
        checklist_version=checklist.versions[0],
        name=kw.pop("name", f"Wave {client.code}"),
        starts_on=kw.pop("starts_on", today - timedelta(days=40)),
        ends_on=kw.pop("ends_on", today + timedelta(days=40)),
        status=kw.pop("status", "open"),
        stores=stores,
        **kw,
    )
    db.session.add(wave)
    db.session.flush()
    return wave


def make_visit(
    wave: Wave,
    store: Store,
    start: datetime,
    minutes: int = 60,
    shopper: ShopperProfile | None = None,
    status: str | None = None,
) -> Visit:
    status = status or (PLANNED if shopper is None else ASSIGNED)
    return new_visit(
        status,
        shopper=shopper,
        wave=wave,
        store=store,
        checklist_version_id=wave.checklist_version_id,
        slot="midday",
        window_start=start,
        window_end=start + timedelta(minutes=minutes),
        assigned_at=start - timedelta(days=3) if shopper else None,
        accepted_at=start - timedelta(days=2) if status == ACCEPTED else None,
    )


def _visits(cast: Any) -> SimpleNamespace:
    """Shopper A's assigned visit and an open one, made once per cast."""
    if not hasattr(cast, "my_visits"):
        wave = make_wave(cast.client_x, [cast.store_north])
        soon = utcnow().replace(microsecond=0) + timedelta(days=3)
        cast.my_visits = SimpleNamespace(
            mine=make_visit(wave, cast.store_north, soon, shopper=cast.shopper_a),
            open=make_visit(wave, cast.store_north, soon + timedelta(days=2)),
        )
    return cast.my_visits  # type: ignore[no-any-return]


SHOPPERS = frozenset({SHOPPER_A, SHOPPER_B})
OWNER = frozenset({SHOPPER_A})

ACCESS = {
    "my_visits.index": Route(lambda c: url_for("my_visits.index"), SHOPPERS),
    "my_visits.find": Route(lambda c: url_for("my_visits.find"), SHOPPERS),
    "my_visits.show": Route(
        lambda c: url_for("my_visits.show", visit_id=_visits(c).mine.id), OWNER
    ),
    "my_visits.accept": Route(
        lambda c: url_for("my_visits.accept", visit_id=_visits(c).mine.id), OWNER, ("POST",)
    ),
    "my_visits.decline": Route(
        lambda c: url_for("my_visits.decline", visit_id=_visits(c).mine.id),
        OWNER,
        ("POST",),
        form=lambda c: {"reason": "Ill that day"},
    ),
    # Any shopper may try to claim an open visit; the rules then say yes or no.
    "my_visits.claim": Route(
        lambda c: url_for("my_visits.claim", visit_id=_visits(c).open.id), SHOPPERS, ("POST",)
    ),
    "my_visits.reset_calendar": Route(
        lambda c: url_for("my_visits.reset_calendar"), SHOPPERS, ("POST",)
    ),
    "my_visits.calendar": Route(
        lambda c: url_for("my_visits.calendar", token=calendar.feed_token(c.shopper_a)),
        EVERYONE,
    ),
}
