"""Demo waves: for each demo client a published checklist copied from the starter
library, a completed previous wave and a wave running now.

- The running wave is a month long and about a quarter done: it started eight days
  before the day the demo is built (so its visits are always partly past, mostly
  future, whatever the date). Its past visits were done (submitted) or, where no shopper
  was free, cancelled; a third of its future visits are assigned or accepted, the
  rest are open on the shopboard.
- The previous wave is the month before it, closed: most visits submitted, a few
  accepted and then missed (those shoppers lose reliability points as
  `visits mark-missed` takes them), unstaffed ones cancelled.
- The first client's previous wave has calibration visits: a share of its stores
  visited twice in the same slot, by two different shoppers (the engine's "not the
  same store twice in one wave" rule sees to that).
- Visits that were done are left accepted here; demo/visits.py then fills in their
  forms and submits them through the visit form service, and demo/review.py reviews
  them. A shopper's own form can be tried on any visit claimed from Find visits.

Shoppers are chosen with the scheduling engine's own eligibility rules (distance,
level, conflicts of interest, rotation, capacity, no overlaps), the best-ranked one
first, so the demo never shows a booking the app itself would refuse.

The demo shopper (shopper@demo.auditapp.cn) lives in Tianjin, where the demo has
three stores. They did one visit in the previous wave; the running wave's future
visits near their home are left open, so their "Find visits" has visits to claim.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import Client, ShopperProfile, User, utcnow
from ..models.waves import (
    ACCEPTED,
    ASSIGNED,
    CANCELLED,
    MISSED,
    PLANNED,
    SUBMITTED,
    Visit,
    VisitEvent,
    Wave,
)
from ..scheduling import Candidate, Rules, VisitSlot, rank
from ..scheduling.eligibility import distance_km
from ..services.checklists import versions as checklists
from ..services.waves.assignments import MISS_PENALTY
from ..services.waves.scheduling import candidates, rules_for, visit_slot
from ..services.waves.setup import generate_visits, save_wave

DEMO_SHOPPER = "shopper@demo.auditapp.cn"
LOCAL = ZoneInfo("Asia/Shanghai")

# Per client code: starter checklist, visits per tier, fee, expense cap, briefing.
PROGRAMMES: dict[str, dict[str, Any]] = {
    "JADE": {
        "starter": "retail_visit",
        "visits_per_tier": {"A": 4, "B": 3, "C": 2},
        "fee": Decimal("80"),
        "expense_cap": Decimal("30"),
        "scenario": (
            "Shop as an ordinary customer buying for a family dinner. Ask a member of "
            "staff where to find an item you cannot see, then pay at a staffed checkout.\n"
            "以普通顾客身份为家庭晚餐采购。向店员询问一件找不到的商品，然后在人工收银台结账。"
        ),
        "purchase": (
            "One fresh-produce item under ¥30; keep the receipt.\n"
            "生鲜商品一件（30元以内），保留小票。"
        ),
        "questions_to_ask": (
            "Where can I find fresh tofu? Is there a member discount this week?\n"
            "请问嫩豆腐在哪里？这周会员有优惠吗？"
        ),
        # The previous wave visits this share of stores twice, so the checklist page
        # shows how far shoppers agree on each question (demo_visits.VAGUE_QUESTIONS).
        "calibration_share": 40,
    },
    "EVER": {
        "starter": "bank_branch_visit",
        "visits_per_tier": {"A": 3, "B": 2, "C": 1},
        "fee": Decimal("150"),
        "expense_cap": Decimal("0"),
        "scenario": (
            "Ask about opening a savings account and a one-year fixed deposit; you are "
            "comparing banks and not ready to decide today.\n"
            "咨询开立储蓄账户和一年期定期存款；您正在比较几家银行，今天不打算办理。"
        ),
        "purchase": "",
        "questions_to_ask": (
            "What is the one-year fixed deposit rate? Which documents do I need?\n"
            "一年期定期利率是多少？需要带哪些证件？"
        ),
    },
}
RUNNING_FOR_DAYS = 8  # the running wave started this many days before the demo was built
FUTURE_STAFFED_EVERY = 3  # one future visit in three is already assigned or accepted
PAST_MISSED_EVERY = 13  # one staffed past visit in thirteen was accepted, then missed


def build_waves(coordinator: User, clients: list[Client], now: datetime | None = None) -> None:
    now = now or utcnow()
    db.session.flush()  # the shoppers and stores built so far get their ids
    today = now.astimezone(LOCAL).date()
    running_start = today - timedelta(days=RUNNING_FOR_DAYS)
    previous_start = running_start - timedelta(days=30)
    demo = db.session.scalars(
        select(ShopperProfile).join(ShopperProfile.user).where(User.email == DEMO_SHOPPER)
    ).one()
    for client in clients:
        programme = PROGRAMMES[client.code]
        checklist = checklists.copy_starter(programme["starter"], client, coordinator)
        db.session.flush()
        version = checklists.publish(checklist.versions[0], coordinator)
        period = (previous_start, running_start - timedelta(days=1))
        calibration = programme.get("calibration_share", 0)
        previous = _wave(client, version, programme, period, coordinator, calibration)
        _staff_previous(previous, coordinator, demo, now)
        previous.status = "closed"
        period = (running_start, running_start + timedelta(days=30))
        running = _wave(client, version, programme, period, coordinator)
        running.previous_wave = previous
        _staff_running(running, coordinator, demo, now)
    db.session.flush()


def _wave(
    client: Client,
    version: Any,
    programme: dict[str, Any],
    period: tuple[date, date],
    coordinator: User,
    calibration_share: int = 0,
) -> Wave:
    data = {
        "name": f"{client.name} · {period[0]:%Y-%m}",
        "cadence": "monthly",
        "starts_on": period[0],
        "ends_on": period[1],
        "visits_per_tier": programme["visits_per_tier"],
        "fee": programme["fee"],
        "expense_cap": programme["expense_cap"],
        "currency": "CNY",
        "required_level": 1,
        "max_travel_km": 30,
        "claim_limit": 3,
        "min_duration_minutes": 15,
        "scenario": programme["scenario"],
        "purchase": programme["purchase"],
        "questions_to_ask": programme["questions_to_ask"],
        "calibration_share": calibration_share,
    }
    wave = save_wave(None, client, version, data)
    generate_visits(wave, coordinator)
    db.session.flush()
    return wave


class _Pool:
    """The shoppers as the engine sees them, kept current as the demo books them."""

    def __init__(self, wave: Wave) -> None:
        self.rules: Rules = rules_for(wave)
        found = candidates(wave.max_travel_km, (wave.starts_on, wave.ends_on))
        self.by_id: dict[int, Candidate] = {c.id: c for c in found}
        self.profiles = {p.id: p for p in db.session.scalars(select(ShopperProfile))}

    def best(self, slot: VisitSlot, skip: set[int]) -> ShopperProfile | None:
        pool = [c for c in self.by_id.values() if c.id not in skip]
        ranking = rank(slot, pool, self.rules)
        if not ranking.eligible:
            return None
        return self.profiles[ranking.eligible[0].shopper_id]

    def eligible(self, slot: VisitSlot, shopper_id: int) -> bool:
        return not rank(slot, [self.by_id[shopper_id]], self.rules).excluded

    def book(self, slot: VisitSlot, shopper_id: int) -> None:
        cand = self.by_id[shopper_id]
        existing = (*cand.existing, (slot.start, slot.end, slot.store_id))
        self.by_id[shopper_id] = replace(cand, existing=existing)


def _event(visit: Visit, before: str, after: str, actor: User | None, at: datetime) -> None:
    note = "Demo data" if after != CANCELLED else "No eligible shopper was free"
    visit.events.append(
        VisitEvent(actor=actor, from_status=before, to_status=after, note=note, at=at)
    )


def _book(
    visit: Visit, shopper: ShopperProfile, coordinator: User, status: str, now: datetime
) -> None:
    """Books the visit as it would have happened: assigned, accepted, then done or not."""
    assigned_at = min(visit.window_start - timedelta(days=6), now - timedelta(hours=2))
    # One flush per step: the database only lets a visit move one edge at a time.
    visit.shopper, visit.status, visit.assigned_at = shopper, ASSIGNED, assigned_at
    _event(visit, PLANNED, ASSIGNED, coordinator, assigned_at)
    db.session.flush()
    if status == ASSIGNED:
        return
    visit.accepted_at = assigned_at + timedelta(hours=1)
    visit.status = ACCEPTED
    _event(visit, ASSIGNED, ACCEPTED, shopper.user, visit.accepted_at)
    db.session.flush()
    if status == SUBMITTED:
        return  # done: demo/visits.py fills and submits it through the visit form
    visit.status = status
    if status == MISSED:
        _event(visit, ACCEPTED, MISSED, None, visit.window_end + timedelta(minutes=15))


def _cancel(visit: Visit, coordinator: User) -> None:
    visit.status = CANCELLED
    _event(visit, PLANNED, CANCELLED, coordinator, visit.window_start - timedelta(days=1))


def _visits(wave: Wave) -> list[Visit]:
    return sorted(wave.visits, key=lambda v: (v.window_start, v.id))


def _staff_previous(wave: Wave, coordinator: User, demo: ShopperProfile, now: datetime) -> None:
    pool = _Pool(wave)
    visits = _visits(wave)
    # The demo shopper's one visit: at the least busy (lowest tier) store they may shop.
    mine = [v for v in visits if pool.eligible(visit_slot(v), demo.id)]
    if mine:
        visit = max(mine, key=lambda v: (v.store.tier, -v.window_start.timestamp()))
        pool.book(visit_slot(visit), demo.id)
        _book(visit, demo, coordinator, SUBMITTED, now)
    staffed = 0
    for visit in visits:
        if visit.status != PLANNED:
            continue
        slot = visit_slot(visit)
        shopper = pool.best(slot, skip={demo.id})
        if shopper is None:
            _cancel(visit, coordinator)
            continue
        staffed += 1
        status = MISSED if staffed % PAST_MISSED_EVERY == 0 else SUBMITTED
        if status == SUBMITTED:  # a missed visit no longer holds the shopper's time
            pool.book(slot, shopper.id)
        _book(visit, shopper, coordinator, status, now)
        if status == MISSED:
            shopper.reliability = max(0, shopper.reliability - MISS_PENALTY)


def _staff_running(wave: Wave, coordinator: User, demo: ShopperProfile, now: datetime) -> None:
    pool = _Pool(wave)
    home = pool.by_id[demo.id]
    future = 0
    for visit in _visits(wave):
        slot = visit_slot(visit)
        if visit.window_start > now:
            near_demo = distance_km(slot, home) <= home.max_km
            future += 1
            if near_demo or future % FUTURE_STAFFED_EVERY:
                continue  # open on the shopboard
            status = ACCEPTED if future % (2 * FUTURE_STAFFED_EVERY) else ASSIGNED
        else:
            status = SUBMITTED if visit.window_end <= now else ACCEPTED
        shopper = pool.best(slot, skip={demo.id})
        if shopper is None:
            if visit.window_start <= now:
                _cancel(visit, coordinator)
            continue
        pool.book(slot, shopper.id)
        _book(visit, shopper, coordinator, status, now)
