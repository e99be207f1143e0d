"""Demo visits, filled in: every demo visit that was done (accepted, its window over)
is checked in near the store, answered, photographed and submitted through the real
visit form service, so its score is the scoring engine's and its integrity flags are
the integrity checks' own.

Each store has a steady service level (how often its staff get things right), so
stores differ and rankings mean something; each shopper a steady leniency that moves
their answers, so shopper-adjusted scores differ from raw ones. What happened at a
store visit is drawn once per store, wave, slot and window, so the two shoppers of a
calibration pair see the same things and agree, except on the vague questions.

A few visits of the running wave were done carelessly on purpose (see QUIRKS) so
the review queue has flagged visits to look at: a check-in far from the store, a
visit too short, a comment copied from another visit, a storefront photo used twice,
a check-in long after the window.
"""

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import select

import scoring

from ..extensions import db
from ..models import ShopperProfile, Store, utcnow
from ..models.waves import ACCEPTED, Visit, Wave
from ..services.checklists.versions import scoring_checklist
from ..services.visits import evidence
from ..services.visits import form as visit_form


class DemoFactMissing(RuntimeError):
    """The data built so far lacks a fact the next demo step is built on."""


# How far a shopper's leniency may move a rating or the chance of the best option of
# a vague question: each demo shopper has a steady one in -LENIENCY..+LENIENCY. A
# clear yes/no or choice leaves it no room: what happened is plain to see.
LENIENCY = 0.5
RATED = ("scale", "nps", "number")
# Questions of the demo's retail checklist that shoppers read differently ("how well
# did they listen?"): each shopper of a calibration pair answers them by their own
# impression, so the checklist page shows them as too vague to trust.
VAGUE_QUESTIONS = ("listening", "fit", "objection", "display")
QUIRKS = ("far", "short", "copied", "same_photo", "late")
QUIRK_EVERY = 4  # at most one done visit in four of the running waves has a quirk
# A visit starts up to 110 minutes into its window, lasts up to 40 and is sent up to
# 120 later: one whose window ended more recently is still with its shopper.
SENT_WITHIN = timedelta(hours=5)

# Overall comments, each used once per client so only the "copied" quirk repeats one.
COMMENTS = (
    "The greeter was busy restocking but looked up and smiled within a few seconds.",
    "Staff explained two options clearly and asked which one suited me better.",
    "Queue at the only open counter; a second colleague opened another after a while.",
    "Promotion posters at the entrance were out of date (last month's offer).",
    "Very clean floor and tidy shelves, though two price tags were missing.",
    "The assistant checked stock on a handheld device and walked me to the shelf.",
    "Nobody approached me for several minutes although three staff were chatting.",
    "Farewell was warm and the receipt was handed over with both hands.",
    "店员主动问候并耐心介绍了两款产品，最后还提醒了会员优惠。",
    "收银台排队较长，但店员一直向等候的顾客致歉并加快速度。",
    "门口促销海报已过期，货架整体整洁，但有两处价签缺失。",
    "询问商品位置时，店员直接带我走到货架前，态度热情。",
)


def done_visits(now: datetime) -> list[Visit]:
    """Visits the demo shoppers did and sent: accepted, with the window over long enough
    for a late start, the visit and the sending to lie in the past (see _do_visit)."""
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.status == ACCEPTED, Visit.window_end <= now - SENT_WITHIN)
            .order_by(Visit.window_start, Visit.id)
        )
    )


def submit_done_visits(now: datetime | None = None) -> list[Visit]:
    now = now or utcnow()
    rng = random.Random(20261125)
    visits = done_visits(now)
    quirks = _quirks([v for v in visits if v.wave.status != "closed"])
    _check_vague_questions([v for v in visits if v.calibration])
    used_comments: dict[int, int] = {}  # client id -> comments used so far
    last_photo: dict[str, bytes] = {}
    for visit in visits:
        quirk = quirks.get(visit.id)
        photo = _storefront(visit.store, rng)
        if quirk == "same_photo" and "previous" in last_photo:
            photo = last_photo["previous"]
        last_photo["previous"] = photo
        comment = _comment(visit.wave, used_comments, quirk, rng)
        _do_visit(visit, rng, quirk, photo, comment)
    return visits


def _check_vague_questions(calibration: list[Visit]) -> None:
    """The calibration visits' checklists have the questions meant to be vague."""
    for version in {v.checklist_version for v in calibration}:
        keys = {q.key for q in scoring_checklist(version).questions()}
        if missing := set(VAGUE_QUESTIONS) - keys:
            raise DemoFactMissing(
                f"the calibration wave's checklist lacks the vague questions {sorted(missing)}"
            )


def _quirks(running: list[Visit]) -> dict[int, str]:
    """Visit id -> quirk: each quirk once, on every QUIRK_EVERY-th done visit of the
    running waves (closer together when fewer are done), so the review queue shows
    every kind of flag beside clean visits."""
    if len(running) < 2 * len(QUIRKS):
        raise DemoFactMissing(
            f"the running waves have {len(running)} done visits, too few to show every quirk"
        )
    step = min(QUIRK_EVERY, len(running) // len(QUIRKS))
    return {running[i * step].id: quirk for i, quirk in enumerate(QUIRKS)}


def _do_visit(
    visit: Visit, rng: random.Random, quirk: str | None, photo: bytes, comment: str
) -> None:
    shopper = visit.shopper
    assert shopper is not None
    store, user = visit.store, shopper.user
    lat, lng, accuracy = _position(store, rng, far=quirk == "far")
    visit_form.confirm_briefing(visit)
    visit_form.start_visit(visit, user, True, lat, lng, accuracy)
    late = timedelta(minutes=90) if quirk == "late" else timedelta(0)
    started = visit.window_start + timedelta(minutes=rng.randint(0, 20)) + late
    minutes = rng.randint(4, 8) if quirk == "short" else rng.randint(18, 40)
    visit.briefing_read_at = visit.window_start - timedelta(hours=rng.randint(2, 30))
    visit.started_at, visit.finished_at = started, started + timedelta(minutes=minutes)
    checklist = scoring_checklist(visit.checklist_version)
    for question in checklist.questions():
        if question.type == "photo" and question.required:
            evidence.store_upload(
                visit, user, photo, "storefront.jpg", f"demo-{visit.id}-{question.key}",
                "photo", question.key,
            )  # fmt: skip
    fields = _answers(checklist, visit, rng)
    if comment:
        fields["comment_overall"] = comment
    if visit.wave.purchase:
        evidence.store_upload(
            visit, user, _receipt(rng), "receipt.jpg", f"demo-{visit.id}-receipt", "receipt"
        )
        fields[visit_form.EXPENSE_FIELD] = f"{rng.randint(800, 3600) / 100:.2f}"
    db.session.flush()
    submission = visit_form.submit(visit, user, f"demo-submission-{visit.id}", fields, None)
    submitted = visit.finished_at + timedelta(minutes=rng.randint(10, 120))
    submission.submitted_at = submitted
    for event in visit.events[-2:]:
        if event.to_status in ("in_progress", "submitted"):
            event.at = started if event.to_status == "in_progress" else submitted
    db.session.flush()


def _position(store: Store, rng: random.Random, far: bool) -> tuple[str, str, str]:
    """Where the shopper's phone said they were: a few dozen metres from the store,
    or about two kilometres away for the "far" quirk."""
    lat, lng = float(store.latitude or 31.23), float(store.longitude or 121.47)
    offset = 0.02 if far else rng.uniform(0.0001, 0.0006)
    return f"{lat + offset:.6f}", f"{lng + offset / 2:.6f}", str(rng.randint(8, 40))


def _level(store: Store) -> float:
    """The store's service level: how likely its staff get each point right."""
    return 0.55 + (sum(map(ord, store.code)) % 43) / 100


def leniency(shopper: ShopperProfile) -> float:
    """The shopper's steady leniency: how much more (or less) likely they are than the
    store deserves to tick "yes" or pick the best option, or to rate higher, seeded by
    their e-mail so every build gives them the same one."""
    return random.Random(f"leniency:{shopper.user.email}").uniform(-LENIENCY, LENIENCY)


def _occasion(visit: Visit) -> random.Random:
    """What happened in the store at that time: the same for the two shoppers of a
    calibration pair (same store, wave, slot and window), so they see the same things
    and disagree only through their leniency, or on a vague question. Seeded by names,
    not ids, so every database builds the same demo."""
    seed = f"{visit.wave.name}:{visit.store.code}:{visit.slot}:{visit.window_start.isoformat()}"
    return random.Random(seed)


@dataclass(frozen=True)
class _Eyes:
    """One shopper's view of one visit: the store's level shifted by their leniency,
    and their own reading (the draw passed beside it is what the store did, shared with
    a calibration twin, or their own for a vague question)."""

    level: float
    own: random.Random


Picker = Callable[[scoring.Question, _Eyes, random.Random], Any]


def _answers(checklist: scoring.Checklist, visit: Visit, rng: random.Random) -> dict[str, Any]:
    assert visit.shopper is not None
    level, lean = _level(visit.store), leniency(visit.shopper)
    seen = _occasion(visit)
    zone = ZoneInfo(visit.store.timezone)
    assert visit.started_at is not None
    local = visit.started_at.astimezone(zone)
    fields: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for question in checklist.questions():
        if question.type == "photo":
            continue
        if question.type == "date":
            value: Any = local.date().isoformat()
        elif question.type == "time":
            value = local.strftime("%H:%M")
        else:
            # A vague question is read differently by each shopper: their own draw.
            vague = question.key in VAGUE_QUESTIONS
            lenient = vague or question.type in RATED
            eyes = _Eyes(level + (lean if lenient else 0), rng)
            value = _PICKERS[question.type](question, eyes, rng if vague else seen)
        answers[question.key] = value
        visible = scoring.visible_keys(checklist, answers)
        if question.key in visible and value is not None:
            fields[f"q_{question.key}"] = value
    return fields


def _yes_no(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str:
    if question.options:
        return _choice(question, eyes, draw)
    # Knock-out items fail rarely even in weak stores; otherwise few stores would pass.
    chance = 1 - (1 - eyes.level) / 20 if question.critical else eyes.level
    return "yes" if draw.random() < chance else "no"


def _choice(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str:
    options = sorted(question.options, key=lambda o: o.points or 0, reverse=True)
    best, other = draw.random(), draw.randrange(len(options))  # always both: same stream
    return options[0 if best < eyes.level else other].value


def _scale(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str:
    low, high = int(question.min or 1), int(question.max or 5)
    value = round(low + (high - low) * eyes.level + draw.uniform(-1, 1))
    return str(min(high, max(low, value)))


def _nps(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str:
    return str(min(10, max(0, round(10 * eyes.level + draw.uniform(-3, 2)))))


def _number(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str:
    worst = 90 if "_s" in question.key else 12
    value = draw.uniform(0, worst * max(0.05, 1.2 - eyes.level))
    low = int(question.min or 0)
    high = int(question.max) if question.max is not None else 10**6
    return str(min(high, max(low, round(value))))


def _text(question: scoring.Question, eyes: _Eyes, draw: random.Random) -> str | None:
    if question.key == "nps_reason":
        return eyes.own.choice(
            ("Had to wait too long.", "店员不够主动。", "Staff seemed uninterested.")
        )
    return None


_PICKERS: dict[str, Picker] = {
    "yes_no": _yes_no,
    "choice": _choice,
    "scale": _scale,
    "nps": _nps,
    "number": _number,
    "text": _text,
}


def _comment(wave: Wave, used: dict[int, int], quirk: str | None, rng: random.Random) -> str:
    """A comment for one visit in three, never the same twice for a client, except
    the "copied" quirk, which repeats the client's last one."""
    count = used.get(wave.client_id, 0)
    if quirk == "copied" and count:
        return COMMENTS[(count - 1) % len(COMMENTS)]
    if rng.random() > 0.35 or count >= len(COMMENTS):
        return ""
    used[wave.client_id] = count + 1
    return COMMENTS[count]


def _storefront(store: Store, rng: random.Random) -> bytes:
    """A small stand-in photo of the storefront, different for every visit."""
    image = Image.new("RGB", (160, 120), (rng.randint(90, 200), 120, rng.randint(90, 200)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randint(0, 140), rng.randint(0, 100)
        shade = tuple(rng.randint(0, 255) for _ in range(3))
        draw.rectangle((x, y, x + rng.randint(10, 60), y + rng.randint(10, 40)), fill=shade)
    draw.text((6, 6), store.code, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _receipt(rng: random.Random) -> bytes:
    image = Image.new("RGB", (90, 160), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for row in range(8, 150, 12):
        draw.line((8, row, rng.randint(40, 82), row), fill=(60, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
