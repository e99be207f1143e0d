"""Demo follow-up: each client's previous wave is published (opening its corrective
actions and raising its alerts) and its running wave is scheduled to be published
three days after it ends, all through the real services.

- Corrective actions: the first of the demo client's actions, the demo store's
  first, are worked into every state: left open, in progress, resolved with a note
  and a photo, verified, and reopened after the check. The demo store manager works
  their own store's actions and the regional manager checks them; the coordinator
  stands in for the other stores' managers.
- Appeals: the demo store manager disputes three findings of the previous wave with
  a reason and a photo; the coordinator upholds one (the visit keeps its original
  score beside the adjusted one), rejects one and leaves one waiting. Other findings
  stay open to appeal.
"""

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

import scoring
from forms.builder import field_name

from ..extensions import db
from ..models import Client, CorrectiveAction, Store, User
from ..models.follow_up import (
    ACTION_IN_PROGRESS,
    ACTION_OPEN,
    ACTION_REOPENED,
    ACTION_RESOLVED,
    ACTION_VERIFIED,
)
from ..models.waves import APPROVED, Visit, Wave
from ..permissions import store_scope
from ..services.appeals import cases as appeals
from ..services.checklists.versions import scoring_checklist
from ..services.follow_up import actions, publishing
from ..services.visits.answers import stored_answers
from .review import _waves, services_at_work
from .visits import DemoFactMissing, _storefront

LOCAL = ZoneInfo("Asia/Shanghai")
STATES = (ACTION_OPEN, ACTION_IN_PROGRESS, ACTION_RESOLVED, ACTION_VERIFIED, ACTION_REOPENED)
WORKED = 15  # actions walked through STATES in turn; the rest stay open
FIX_NOTE = (
    "Staff briefed at the morning meeting; checked again on Friday.\n晨会已培训员工，周五复查。"
)
CHECK_NOTE = "Photo checked: the fix is in place.\n照片已核实，整改到位。"
REOPEN_NOTE = (
    "The photo does not show the price tags; please fix and send another.\n"
    "照片未显示价签，请整改后重新上传。"
)
APPEAL_REASONS = (
    "The assistant did greet the customer; our door camera shows it at the time of the visit.\n"
    "店员确实问候了顾客，门口监控可以证明。",
    "The item was out of stock that day because of a supplier delay, not our mistake.\n"
    "当天缺货是供应商延误所致。",
    "The queue was caused by a card-terminal outage across the whole mall.\n"
    "排队是商场整体刷卡系统故障造成的。",
)
UPHOLD_NOTE = (
    "The store's footage confirms the greeting; answer corrected.\n监控证实有问候，答案已更正。"
)
REJECT_NOTE = (
    "The standard applies whatever the cause; the finding stands.\n"
    "无论原因如何，标准不变，维持原判。"
)


def follow_up_demo(
    coordinator: User, regional: User, store_manager: User, demo_store: Store,
    clients: list[Client],
) -> None:  # fmt: skip
    with services_at_work():  # alerts link back to the site and mail in line
        for client in clients:
            previous, running = _waves(client)
            publishing.publish_wave(previous, coordinator)
            publishing.publish_wave(running, coordinator, at=_after_end(running))
        db.session.flush()
        _work_actions(clients[0], coordinator, regional, store_manager, demo_store)
        _appeal(coordinator, store_manager, demo_store)
        db.session.flush()


def demo_store(regional: User) -> Store:
    """The store the demo store manager runs: of the regional manager's stores, the one
    whose approved visits scored lowest on average (so it has findings to work on)."""
    mean = func.avg(Visit.score)
    return (
        db.session.scalars(
            select(Store)
            .join(Visit, Visit.store_id == Store.id)
            .where(store_scope(regional), Visit.status == APPROVED)
            .group_by(Store.id)
            .having(func.count(Visit.id) >= 2)
            .order_by(mean, Store.code)
        ).first()
        or db.session.scalars(select(Store).where(store_scope(regional))).one()
    )


def _after_end(wave: Wave) -> datetime:
    day = wave.ends_on + timedelta(days=3)
    return datetime.combine(day, time(9), LOCAL)


def _work_actions(
    client: Client, coordinator: User, regional: User, store_manager: User, demo_store: Store
) -> None:
    found = list(
        db.session.scalars(
            select(CorrectiveAction)
            .join(Store, Store.id == CorrectiveAction.store_id)
            .where(Store.client_id == client.id, CorrectiveAction.status == ACTION_OPEN)
            .order_by(CorrectiveAction.store_id != demo_store.id, Store.code, CorrectiveAction.id)
        )
    )
    if len(found) < len(STATES):
        raise DemoFactMissing(
            f"{client.code} has {len(found)} open actions, the demo needs {len(STATES)}"
        )
    rng = random.Random(8)
    for index, action in enumerate(found[:WORKED]):
        own = action.store_id == demo_store.id
        worker, checker = (store_manager, regional) if own else (coordinator, coordinator)
        target = STATES[index % len(STATES)]
        if target == ACTION_OPEN:
            continue
        actions.start(action, worker)
        if target == ACTION_IN_PROGRESS:
            continue
        photo = (_storefront(action.store, rng), "fix.jpg")
        actions.resolve(action, worker, FIX_NOTE, [photo])
        if target == ACTION_VERIFIED:
            actions.verify(action, checker, CHECK_NOTE)
        elif target == ACTION_REOPENED:
            actions.reopen(action, checker, REOPEN_NOTE)


def _appeal(coordinator: User, store_manager: User, store: Store) -> None:
    """Three disputed "no" answers of plain yes/no questions: one upheld, one rejected,
    one waiting. The findings are the ones the appeal service itself accepts, so the
    demo never files an appeal the app would refuse, whatever day it is built on."""
    rng = random.Random(9)
    disputes = _disputable(store_manager, store)[: len(APPEAL_REASONS)]
    if len(disputes) < len(APPEAL_REASONS):
        raise DemoFactMissing(
            f"store {store.code} has {len(disputes)} appealable findings, "
            f"the demo needs {len(APPEAL_REASONS)}"
        )
    for number, ((visit, key), reason) in enumerate(zip(disputes, APPEAL_REASONS, strict=True)):
        photo = (_storefront(store, rng), "evidence.jpg")
        appeal = appeals.file_appeal(visit, store_manager, key, reason, [photo])
        if number == 0:
            appeals.uphold(appeal, coordinator, UPHOLD_NOTE, {field_name(key): "yes"})
        elif number == 1:
            appeals.reject(appeal, coordinator, REJECT_NOTE)


def _disputable(store_manager: User, store: Store) -> list[tuple[Visit, str]]:
    """(visit, question key) of the store's published visits answered "no" to a plain
    yes/no question that the store manager may appeal now (it cost the store points),
    oldest visit first; those of a calibration pair last, so an upheld appeal changes
    no answer the checklist page compares between two shoppers."""
    visits = db.session.scalars(
        select(Visit)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(Visit.store_id == store.id, Visit.status == APPROVED)
        .where(Wave.published_at.is_not(None))
        .order_by(Visit.window_start, Visit.id)
    )
    found: list[tuple[Visit, str]] = []
    for visit in visits:
        checklist: scoring.Checklist = scoring_checklist(visit.checklist_version)
        answers: dict[str, Any] = {k: r.value for k, r in stored_answers(visit).items()}
        for question in checklist.questions():
            plain = question.type == "yes_no" and not question.options
            if not (plain and answers.get(question.key) == "no"):
                continue
            if appeals.can_appeal(store_manager, visit, question.key) is None:
                found.append((visit, question.key))
    pairs = select(Visit.wave_id, Visit.window_start).where(
        Visit.store_id == store.id, Visit.calibration.is_(True)
    )
    paired = {(wave_id, start) for wave_id, start in db.session.execute(pairs)}
    return sorted(found, key=lambda item: (item[0].wave_id, item[0].window_start) in paired)
