"""Setting up waves and generating their visits.

Rules decided here:
- A wave uses a published checklist version of its own client; every visit pins it.
- Stores in scope are the client's active stores matching every filter given: regions
  (with everything below them), tiers, formats; an explicit store list is added on
  top. The filters are kept on the wave so "create next wave" chooses again.
- "Create next wave" copies the set-up to the period that follows (same length for
  weekly waves, next calendar month, quarter or half-year otherwise).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import joinedload

from ...errors import DomainError
from ...extensions import db
from ...models import PUBLISHED, TIERS, Checklist, ChecklistVersion, Client, Region, Store, User
from ...models.waves import CANCELLED, PLANNED, SLOTS, Visit, VisitEvent, Wave
from .plan import StorePlanInput, calibration_visits, plan_visits, slot_window

DEFAULT_VISITS_PER_TIER = {"A": 4, "B": 2, "C": 1}
DEFAULT_SLOT_QUOTAS = {"opening": 25, "midday": 25, "peak": 30, "closing": 20}
WAVE_FIELDS = (
    "name", "cadence", "starts_on", "ends_on", "weekend_share", "calibration_share", "fee",
    "expense_cap", "currency", "required_level", "max_travel_km", "claim_limit",
    "min_duration_minutes", "allow_audio", "scenario", "purchase", "questions_to_ask",
)  # fmt: skip


def _check_setup(client: Client, version: ChecklistVersion, data: Mapping[str, Any]) -> None:
    if version.checklist.client_id != client.id:
        raise DomainError(_("The checklist belongs to another client."))
    if not version.is_published:
        raise DomainError(_("Only a published checklist version can be used in a wave."))
    if data["ends_on"] < data["starts_on"]:
        raise DomainError(_("The wave must end on or after the day it starts."))
    quotas = data.get("slot_quotas") or DEFAULT_SLOT_QUOTAS
    if set(quotas) - set(SLOTS) or sum(quotas.values()) != 100:
        raise DomainError(_("Slot shares must add up to 100%."))
    per_tier = data.get("visits_per_tier") or DEFAULT_VISITS_PER_TIER
    if set(per_tier) - set(TIERS) or any(v < 0 for v in per_tier.values()):
        raise DomainError(_("Visits per tier must be zero or more for tiers A, B and C."))


def published_versions(client_ids: Sequence[int]) -> list[ChecklistVersion]:
    """The published checklist versions a wave of these clients may use."""
    return list(
        db.session.scalars(
            select(ChecklistVersion)
            .join(Checklist)
            .options(joinedload(ChecklistVersion.checklist).joinedload(Checklist.client))
            .where(Checklist.client_id.in_(client_ids), ChecklistVersion.status == PUBLISHED)
            .order_by(Checklist.client_id, Checklist.title, ChecklistVersion.number.desc())
        )
    )


def regions_of(client_ids: Sequence[int]) -> list[Region]:
    return list(
        db.session.scalars(
            select(Region)
            .options(joinedload(Region.client))
            .where(Region.client_id.in_(client_ids))
            .order_by(Region.client_id, Region.path)
        )
    )


def listed_store_codes(wave: Wave) -> list[str]:
    """The codes of the stores the wave's set-up names one by one."""
    return list(
        db.session.scalars(
            select(Store.code)
            .where(Store.id.in_(wave.scope.get("stores") or []))
            .order_by(Store.code)
        )
    )


@dataclass
class SetupChoices:
    """What a set-up form chose, checked against the client: the checklist version,
    the store ids of the typed codes and, by field name, what is wrong."""

    version: ChecklistVersion | None
    store_ids: list[int]
    problems: dict[str, str] = field(default_factory=dict)


def check_choices(
    client: Client, version_id: int | None, region_ids: Sequence[int], codes: Sequence[str]
) -> SetupChoices:
    """A wave uses a published checklist version, regions and stores of its own client."""
    problems: dict[str, str] = {}
    version = db.session.get(ChecklistVersion, version_id or 0)
    if version is None:
        problems["checklist_version_id"] = _("Choose a checklist version.")
    elif version.checklist.client_id != client.id:
        problems["checklist_version_id"] = _("This checklist belongs to another client.")
    elif not version.is_published:
        problems["checklist_version_id"] = _(
            "Only a published checklist version can be used in a wave."
        )
    own_regions = set(db.session.scalars(select(Region.id).where(Region.client_id == client.id)))
    if set(region_ids) - own_regions:
        problems["regions"] = _("Choose regions of the wave's client only.")
    found: dict[str, int] = dict(
        db.session.execute(
            select(Store.code, Store.id).where(Store.client_id == client.id, Store.code.in_(codes))
        ).all()
    )
    if unknown := [code for code in codes if code not in found]:
        problems["store_codes"] = _(
            "%(client)s has no stores with these codes: %(codes)s",
            client=client.name,
            codes=", ".join(unknown),
        )
    return SetupChoices(version, sorted(found[code] for code in codes if code in found), problems)


def stores_in_scope(client: Client, scope: Mapping[str, Any]) -> list[Store]:
    query = select(Store).where(Store.client_id == client.id, Store.status == "active")
    if region_ids := scope.get("regions"):
        paths = db.session.scalars(
            select(Region.path).where(Region.id.in_(region_ids), Region.client_id == client.id)
        ).all()
        below = select(Region.id).where(
            or_(false(), *(Region.path.startswith(p, autoescape=True) for p in paths))
        )
        query = query.where(Store.region_id.in_(below))
    if tiers := scope.get("tiers"):
        query = query.where(Store.tier.in_(tiers))
    if formats := scope.get("formats"):
        query = query.where(Store.format.in_(formats))
    chosen = {s.id: s for s in db.session.scalars(query)} if _filters(scope) else {}
    if store_ids := scope.get("stores"):
        extra = select(Store).where(Store.client_id == client.id, Store.id.in_(store_ids))
        chosen |= {s.id: s for s in db.session.scalars(extra)}
    return sorted(chosen.values(), key=lambda s: s.code)


def _filters(scope: Mapping[str, Any]) -> bool:
    """An explicit store list alone means exactly those stores; no filter means all."""
    return bool(scope.get("regions") or scope.get("tiers") or scope.get("formats")) or not (
        scope.get("stores")
    )


def save_wave(
    wave: Wave | None, client: Client, version: ChecklistVersion, data: Mapping[str, Any]
) -> Wave:
    _check_setup(client, version, data)
    if wave is not None and wave.visits and wave.checklist_version_id != version.id:
        raise DomainError(_("Visits already pin this wave's checklist version."))
    wave = wave or Wave(client=client)
    for name in WAVE_FIELDS:
        if name in data:
            setattr(wave, name, data[name])
    wave.calibration_share = wave.calibration_share or 0  # an empty field: no calibration
    wave.checklist_version = version
    wave.scope = dict(data.get("scope") or {})
    wave.visits_per_tier = dict(data.get("visits_per_tier") or DEFAULT_VISITS_PER_TIER)
    wave.slot_quotas = dict(data.get("slot_quotas") or DEFAULT_SLOT_QUOTAS)
    wave.stores = stores_in_scope(client, wave.scope)
    db.session.add(wave)
    return wave


def generate_visits(wave: Wave, actor: User | None) -> tuple[list[Visit], list[tuple[int, str]]]:
    """Creates the planned visits of every store in the wave that has none yet, plus
    the calibration share's second visits (plan.calibration_visits); the
    scheduling rule "not the same store twice in one wave" gives each pair two
    different shoppers. Returns the new visits and the (store, slot) pairs that found
    no open window."""
    have = set(
        db.session.scalars(
            select(Visit.store_id).where(Visit.wave_id == wave.id, Visit.status != CANCELLED)
        )
    )
    inputs = [
        StorePlanInput(
            s.id, s.code, wave.visits_per_tier.get(s.tier, 0), s.timezone, s.opening_hours
        )
        for s in wave.stores
        if s.id not in have
    ]
    planned, unplaced = plan_visits(
        inputs, wave.starts_on, wave.ends_on, wave.slot_quotas, wave.weekend_share
    )
    codes = {s.store_id: s.code for s in inputs}
    doubles = calibration_visits(planned, codes, wave.calibration_share or 0)
    visits = []
    for p, calibration in [(p, False) for p in planned] + [(p, True) for p in doubles]:
        visit = Visit(
            wave=wave,
            store_id=p.store_id,
            checklist_version_id=wave.checklist_version_id,
            slot=p.slot,
            calibration=calibration,
            window_start=p.start,
            window_end=p.end,
            status=PLANNED,
        )
        visit.events.append(VisitEvent(actor=actor, from_status=None, to_status=PLANNED))
        visits.append(visit)
    db.session.add_all(visits)
    if wave.status == "draft":
        wave.status = "open"
    return visits, unplaced


def add_visit(wave: Wave, store: Store, day: date, slot: str, actor: User | None) -> Visit:
    """One more planned visit for a store of the wave, in a slot of its hours that day.
    Raises InvalidVisit naming the field ("day" or "slot") that is wrong."""
    if not wave.starts_on <= day <= wave.ends_on:
        raise InvalidVisit("day", _("Choose a day inside the wave's period."))
    window = slot_window(store.opening_hours or {}, store.timezone, day, slot)
    if window is None:
        raise InvalidVisit("slot", _("The store has no such time slot open on that day."))
    visit = Visit(
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id,
        slot=slot, window_start=window[0], window_end=window[1], status=PLANNED,
    )  # fmt: skip
    visit.events.append(
        VisitEvent(
            actor=actor, from_status=None, to_status=PLANNED, note=_("Added by the coordinator")
        )
    )
    db.session.add(visit)
    return visit


class InvalidVisit(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def next_period(wave: Wave) -> tuple[date, date]:
    """A calendar month, quarter or half-year is followed by the next one; any other
    period by one of the same length starting the day after."""
    months = {"monthly": 1, "quarterly": 3, "half_yearly": 6}.get(wave.cadence)
    if months and wave.starts_on.day == 1:
        start = _add_months(wave.starts_on, months)
        return start, _add_months(start, months) - timedelta(days=1)
    length = wave.ends_on - wave.starts_on + timedelta(days=1)
    return wave.starts_on + length, wave.ends_on + length


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


def create_next_wave(wave: Wave) -> Wave:
    starts_on, ends_on = next_period(wave)
    data: dict[str, Any] = {name: getattr(wave, name) for name in WAVE_FIELDS}
    data.update(
        starts_on=starts_on,
        ends_on=ends_on,
        name=_("%(name)s (next)", name=wave.name),
        scope=wave.scope,
        visits_per_tier=wave.visits_per_tier,
        slot_quotas=wave.slot_quotas,
    )
    new = save_wave(None, wave.client, wave.checklist_version, data)
    new.previous_wave = wave
    return new


def stores_zone(wave: Wave) -> str:
    """The time zone most of the wave's stores share (ties: the first by name); for a
    wave without stores yet, that of the client's stores; else UTC."""
    zones = Counter(store.timezone for store in wave.stores)
    if zones:
        return min(zones, key=lambda zone: (-zones[zone], zone))
    found = db.session.scalars(
        select(Store.timezone)
        .where(Store.client_id == wave.client_id)
        .group_by(Store.timezone)
        .order_by(func.count().desc(), Store.timezone)
        .limit(1)
    ).first()
    return found or "UTC"
