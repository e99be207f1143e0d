"""Integrity checks run when a shopper submits a visit: flags and a 0-100 score.

``check_submission`` runs every check on one submission, stores one VisitFlag per
check that failed (code, penalty, ``detail`` with what a reviewer needs to judge it)
and sets ``visit.integrity_score = max(0, 100 - sum of penalties)``. A flag is a
reason to look, not a verdict: the reviewer decides. Flags belong to the submission,
so a visit returned for changes and sent again gets a fresh set, and the visit's
score follows its latest submission. Running the checks again on the same submission
replaces its flags.

The check-in moment is ``visit.started_at``; a visit never checked in is judged by its
submission time instead (``source`` in the detail says which). Limits come from the
app config (INTEGRITY_*). Times in a detail are ISO 8601 in UTC; distances in metres.

The checks, their penalties and why they weigh what they do. The three strong ones
(30, 25, 20) each point at a visit that may not have happened as reported; the
moderate ones (15) are often innocent alone; the weak ones (10) matter beside others.

- ``duplicate_photo`` (30): a photo, receipt or recording of this visit is the same
  file (sha256) or the same picture (dhash: re-saved or resized) as evidence of
  ANOTHER visit, anyone's. One photo cannot come from two visits, so this is the
  nearest thing to proof of a fabricated visit. Pictures whose dhash carries no
  information (all bits equal: a blank or evenly shaded image) are compared by file
  only. A picture with no exact match is then looked up among the EARLIER photos
  (lower evidence id) of other visits of the same client: one whose dhash differs in
  at most INTEGRITY_SIMILAR_PHOTO_DISTANCE bits (default 6 of 64) is a near copy
  (resized, brightened, slightly cropped; services/visits/photo_index.py), ``match``
  "similar". Detail: ``photos`` [{evidence_id, kind, match ("file" | "picture" |
  "similar"), other_visit_ids, other_evidence_ids}], a similar one also with
  ``distance`` (bits that differ from the nearest), ``nearest_evidence_id`` and
  ``nearest_visit_id`` (the pair the reviewer sees side by side).
- ``far_check_in`` (25): the check-in location lies more than INTEGRITY_MAX_DISTANCE_M
  from the store's coordinates (great-circle distance, in whole metres). Strong: with
  a usable fix the shopper was somewhere else; the accuracy is in the detail for the
  reviewer to weigh. Detail: metres, maximum, accuracy_m (null when unknown),
  latitude, longitude, store_latitude, store_longitude.
- ``copied_comment`` (20): a comment equals or nearly equals one in another recent
  visit of the same client (services/visits/integrity_comments.py says how it is measured).
  Strong, but a shopper's stock phrase can be innocent. Detail: ``comments``
  [{section (section key, "" for the overall comment), other_visit_id,
  other_section, similarity}].
- ``outside_window`` (15): the check-in is more than INTEGRITY_WINDOW_GRACE_MINUTES
  before the window opens or after it closes. Detail: checked_in_at, source,
  window_start, window_end, grace_minutes and minutes_early or minutes_late (whole
  minutes, rounded up, from the window's edge).
- ``outside_hours`` (15): the check-in falls outside the store's opening hours for
  that weekday in the store's time zone (opening time included, closing time not; a
  closed day is outside). A store without any hours on file is not judged. Detail:
  checked_in_at, source, local_time, weekday, timezone, hours ([] when closed), closed.
- ``short_duration`` (15): check-out (or the submission) came less than the wave's
  ``min_duration_minutes`` after check-in, or there was no check-in, so the length of
  the visit cannot be shown. A wave without a minimum is not judged. Detail: minutes
  (rounded down to 0.1; null without check-in), minimum, checked_in.
- ``photo_time`` (15): a photo or receipt's EXIF capture time lies outside [check-in
  - INTEGRITY_PHOTO_GRACE_MINUTES, check-out (or the submission) + grace], or the
  visit window widened by the grace when there was no check-in. Pictures without an
  EXIF time are not judged (many apps strip it). Detail: basis ("visit" | "window"),
  start, end, grace_minutes, ``photos`` [{evidence_id, kind, question_key, taken_at,
  side ("before" | "after"), minutes (from check-in / check-out, rounded up)}].
- ``missing_evidence`` (15): a visible required photo question answered N/A or without
  a photo (an optional one left out is not missing), or no receipt although the wave
  says what to buy. Detail: questions (keys),
  answered_na (the subset answered N/A), receipt_missing.

The timing checks and missing evidence weigh 15: each is often innocent (a late bus,
the app opened after the visit, a shop that forbids photos), so one alone should not
sink a visit, while two together (score 70) deserve a careful look.

- ``poor_accuracy`` (10): the reported accuracy is worse than INTEGRITY_MAX_ACCURACY_M.
  Weak: GPS is poor indoors and in malls, but a vague fix also hides a fake one.
  Detail: accuracy_m, maximum.
- ``straight_lining`` (10): at least 8 answered single-answer questions (yes_no,
  choice, scale), N/A left out, all with the same value. Weak: a very good store
  earns all "yes"; it matters beside other flags. Detail: count, value.
- ``store_without_location`` (0): the store has no coordinates on file, so
  ``far_check_in`` could not be judged. The store's data is missing, not the
  shopper's, so it costs nothing; but the visit is not silently passed as checked:
  the reviewer sees it. Costing nothing, it does not stop bulk approval either
  (services/review/decisions.py). Detail: store_code, and the check-in's latitude and longitude
  when the shopper shared them, for the reviewer to compare with the store's address
  by hand.

Location is asked with consent: a visit whose shopper did not share it gets neither
``far_check_in`` nor ``poor_accuracy``; an unknown accuracy is not poor. Refusing
location must not cost a shopper points, so the reviewer sees the missing location
on the visit instead.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import ColumnElement, delete, exists, or_, select

import scoring

from ...extensions import db
from ...models import utcnow
from ...models.answers import Evidence, VisitSubmission
from ...models.org import WEEKDAYS
from ...models.review import FLAG_CODES, VisitFlag
from ...models.waves import Visit
from ...scheduling.eligibility import haversine_km
from ..checklists import scoring_checklist
from .integrity_comments import comment_similarity, copied_comments
from .photo_index import informative, similar_for_each

__all__ = [
    "PENALTIES",
    "Limits",
    "check_submission",
    "comment_similarity",
    "find_problems",
    "integrity_score",
]

PENALTIES: dict[str, int] = {
    "duplicate_photo": 30,
    "far_check_in": 25,
    "copied_comment": 20,
    "outside_window": 15,
    "outside_hours": 15,
    "short_duration": 15,
    "photo_time": 15,
    "missing_evidence": 15,
    "poor_accuracy": 10,
    "straight_lining": 10,
    "store_without_location": 0,  # the store's data is missing, not the shopper's
}
assert set(PENALTIES) == set(FLAG_CODES)

CHOICE_TYPES = frozenset({"yes_no", "choice", "scale"})
STRAIGHT_LINE_MIN = 8
MAX_DUPLICATES = 200
Detail = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    max_distance_m: int = 300
    max_accuracy_m: int = 150
    window_grace: timedelta = timedelta(minutes=15)
    photo_grace: timedelta = timedelta(minutes=30)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Limits":
        return cls(
            max_distance_m=int(config["INTEGRITY_MAX_DISTANCE_M"]),
            max_accuracy_m=int(config["INTEGRITY_MAX_ACCURACY_M"]),
            window_grace=timedelta(minutes=int(config["INTEGRITY_WINDOW_GRACE_MINUTES"])),
            photo_grace=timedelta(minutes=int(config["INTEGRITY_PHOTO_GRACE_MINUTES"])),
        )


@dataclass
class _Scene:
    visit: Visit
    submission: VisitSubmission
    limits: Limits
    evidence: list[Evidence] = field(default_factory=list)
    checklist: scoring.Checklist | None = None

    @property
    def submitted_at(self) -> datetime:
        return _utc(self.submission.submitted_at or utcnow())

    def check_in(self) -> tuple[datetime, str]:
        if self.visit.started_at is not None:
            return _utc(self.visit.started_at), "check_in"
        return self.submitted_at, "submission"

    def questions(self) -> tuple[scoring.Question, ...]:
        if self.checklist is None:
            self.checklist = scoring_checklist(self.visit.checklist_version)
        return self.checklist.questions()


# --- running them -------------------------------------------------------------------


def check_submission(visit: Visit, submission: VisitSubmission) -> list[VisitFlag]:
    """Runs every check on the submission, stores its flags (replacing any it had) and
    sets the visit's integrity score when this is the visit's latest submission."""
    if submission.id is None:
        db.session.add(submission)
        db.session.flush()
    findings = find_problems(visit, submission)
    db.session.execute(
        delete(VisitFlag)
        .where(VisitFlag.submission_id == submission.id)
        .execution_options(synchronize_session="fetch")
    )
    flags = [
        VisitFlag(
            visit_id=visit.id,
            submission_id=submission.id,
            code=code,
            penalty=PENALTIES[code],
            detail=detail,
        )
        for code, detail in findings.items()
    ]
    db.session.add_all(flags)
    later = db.session.scalar(
        select(
            exists().where(VisitSubmission.visit_id == visit.id, VisitSubmission.id > submission.id)
        )
    )
    if not later:
        visit.integrity_score = integrity_score(flag.penalty for flag in flags)
    db.session.flush()
    return flags


def integrity_score(penalties: Iterable[int]) -> int:
    return max(0, 100 - sum(penalties))


def find_problems(
    visit: Visit, submission: VisitSubmission, limits: Limits | None = None
) -> dict[str, Detail]:
    """{flag code: detail} of every check that fails, in FLAG_CODES order; stores
    nothing. ``limits`` default to the app config."""
    scene = _Scene(
        visit,
        submission,
        limits or Limits.from_config(current_app.config),
        list(
            db.session.scalars(
                select(Evidence).where(Evidence.visit_id == visit.id).order_by(Evidence.id)
            )
        ),
    )
    found: dict[str, Detail] = {}
    for code in FLAG_CODES:
        detail = CHECKS[code](scene)
        if detail is not None:
            found[code] = detail
    return found


# --- when ---------------------------------------------------------------------------


def _outside_window(scene: _Scene) -> Detail | None:
    moment, source = scene.check_in()
    start, end = _utc(scene.visit.window_start), _utc(scene.visit.window_end)
    grace = scene.limits.window_grace
    detail: Detail = {
        "checked_in_at": _iso(moment),
        "source": source,
        "window_start": _iso(start),
        "window_end": _iso(end),
        "grace_minutes": _whole_minutes(grace),
    }
    if moment < start - grace:
        return detail | {"minutes_early": _minutes_up(start - moment)}
    if moment > end + grace:
        return detail | {"minutes_late": _minutes_up(moment - end)}
    return None


def _outside_hours(scene: _Scene) -> Detail | None:
    store = scene.visit.store
    week = store.opening_hours or {}
    if not week:
        return None  # no hours on file: nothing to judge by
    moment, source = scene.check_in()
    local = moment.astimezone(_zone(store.timezone))
    day = WEEKDAYS[local.weekday()]
    hours = week.get(day)
    try:
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if hours and _clock(hours[0]) <= seconds < _clock(hours[1]):
            return None
    except (TypeError, ValueError, IndexError):
        return None  # hours we cannot read are not held against the shopper
    return {
        "checked_in_at": _iso(moment),
        "source": source,
        "local_time": local.strftime("%Y-%m-%d %H:%M"),
        "weekday": day,
        "timezone": store.timezone,
        "hours": list(hours or []),
        "closed": not hours,
    }


def _short_duration(scene: _Scene) -> Detail | None:
    minimum = scene.visit.wave.min_duration_minutes
    if not minimum:
        return None
    if scene.visit.started_at is None:
        return {"minutes": None, "minimum": minimum, "checked_in": False}
    start = _utc(scene.visit.started_at)
    end = _utc(scene.visit.finished_at) if scene.visit.finished_at else scene.submitted_at
    duration = max(end - start, timedelta(0))
    if duration >= timedelta(minutes=minimum):
        return None
    minutes = math.floor(duration.total_seconds() / 6) / 10
    return {"minutes": minutes, "minimum": minimum, "checked_in": True}


def _photo_time(scene: _Scene) -> Detail | None:
    visit = scene.visit
    if visit.started_at is not None:
        start = _utc(visit.started_at)
        end = _utc(visit.finished_at) if visit.finished_at else scene.submitted_at
        basis = "visit"
    else:
        start, end, basis = _utc(visit.window_start), _utc(visit.window_end), "window"
    grace = scene.limits.photo_grace
    photos = []
    for evidence in scene.evidence:
        if evidence.kind == "audio" or evidence.taken_at is None:
            continue
        taken = _utc(evidence.taken_at)
        if start - grace <= taken <= end + grace:
            continue
        side, gap = ("before", start - taken) if taken < start else ("after", taken - end)
        photos.append(
            {
                "evidence_id": evidence.id,
                "kind": evidence.kind,
                "question_key": evidence.question_key or "",
                "taken_at": _iso(taken),
                "side": side,
                "minutes": _minutes_up(gap),
            }
        )
    if not photos:
        return None
    return {
        "basis": basis,
        "start": _iso(start),
        "end": _iso(end),
        "grace_minutes": _whole_minutes(grace),
        "photos": photos,
    }


# --- where --------------------------------------------------------------------------


def _far_check_in(scene: _Scene) -> Detail | None:
    visit, store = scene.visit, scene.visit.store
    if visit.start_latitude is None or visit.start_longitude is None:
        return None
    if store.latitude is None or store.longitude is None:
        return None
    lat, lng = float(visit.start_latitude), float(visit.start_longitude)
    store_lat, store_lng = float(store.latitude), float(store.longitude)
    metres = round(haversine_km(store_lat, store_lng, lat, lng) * 1000)
    if metres <= scene.limits.max_distance_m:
        return None
    return {
        "metres": metres,
        "maximum": scene.limits.max_distance_m,
        "accuracy_m": visit.start_accuracy_m,
        "latitude": lat,
        "longitude": lng,
        "store_latitude": store_lat,
        "store_longitude": store_lng,
    }


def _store_without_location(scene: _Scene) -> Detail | None:
    visit, store = scene.visit, scene.visit.store
    if store.latitude is not None and store.longitude is not None:
        return None
    detail: Detail = {"store_code": store.code}
    lat, lng = visit.start_latitude, visit.start_longitude
    if lat is not None and lng is not None:
        detail |= {"latitude": float(lat), "longitude": float(lng)}
    return detail


def _poor_accuracy(scene: _Scene) -> Detail | None:
    visit = scene.visit
    if visit.start_latitude is None or visit.start_longitude is None:
        return None
    accuracy = visit.start_accuracy_m
    if accuracy is None or accuracy <= scene.limits.max_accuracy_m:
        return None
    return {"accuracy_m": accuracy, "maximum": scene.limits.max_accuracy_m}


# --- what ---------------------------------------------------------------------------


def _duplicate_photo(scene: _Scene) -> Detail | None:
    own = scene.evidence
    if not own:
        return None
    pictures = {e.dhash for e in own if informative(e.dhash)}
    same: ColumnElement[bool] = Evidence.sha256.in_({e.sha256 for e in own})
    if pictures:
        same = or_(same, Evidence.dhash.in_(pictures))
    others = db.session.execute(
        select(Evidence.id, Evidence.visit_id, Evidence.sha256, Evidence.dhash)
        .where(Evidence.visit_id != scene.visit.id, same)
        .order_by(Evidence.id)
        .limit(MAX_DUPLICATES)
    ).all()
    photos: list[Detail] = []
    unmatched: dict[int, str] = {}
    for evidence in own:
        files = [o for o in others if o.sha256 == evidence.sha256]
        alike = [o for o in others if informative(evidence.dhash) and o.dhash == evidence.dhash]
        matches = files + [o for o in alike if o not in files]
        if matches:
            photos.append(
                {
                    "evidence_id": evidence.id,
                    "kind": evidence.kind,
                    "match": "file" if files else "picture",
                    "other_visit_ids": sorted({o.visit_id for o in matches}),
                    "other_evidence_ids": sorted({o.id for o in matches}),
                }
            )
        elif evidence.dhash and evidence.kind != "audio":
            unmatched[evidence.id] = evidence.dhash
    # Near copies: one query for all of the visit's pictures without an exact match.
    near = similar_for_each(unmatched, scene.visit.wave.client_id, exclude_visit_id=scene.visit.id)
    for evidence in own:
        if similar := near.get(evidence.id):
            photos.append(
                {
                    "evidence_id": evidence.id,
                    "kind": evidence.kind,
                    "match": "similar",
                    "distance": similar[0].distance,
                    "nearest_evidence_id": similar[0].evidence_id,
                    "nearest_visit_id": similar[0].visit_id,
                    "other_visit_ids": sorted({s.visit_id for s in similar}),
                    "other_evidence_ids": sorted({s.evidence_id for s in similar}),
                }
            )
    photos.sort(key=lambda item: item["evidence_id"])
    return {"photos": photos} if photos else None


def _copied_comment(scene: _Scene) -> Detail | None:
    return copied_comments(scene.visit, scene.submission.comments, scene.submitted_at)


def _straight_lining(scene: _Scene) -> Detail | None:
    answers = scene.submission.answers or {}
    values = [
        answers[q.key]
        for q in scene.questions()
        if q.type in CHOICE_TYPES
        and isinstance(answers.get(q.key), str | int | float)
        and answers.get(q.key) != scoring.NA
    ]
    if len(values) < STRAIGHT_LINE_MIN or len({str(v) for v in values}) != 1:
        return None
    return {"count": len(values), "value": values[0]}


def _missing_evidence(scene: _Scene) -> Detail | None:
    answers = scene.submission.answers or {}
    questions = scene.questions()
    assert scene.checklist is not None
    visible = scoring.validate_answers(scene.checklist, answers).visible
    missing, answered_na = [], []
    for question in questions:
        # An optional photo left out is the shopper's choice, not missing evidence.
        if question.type != "photo" or not question.required or question.key not in visible:
            continue
        value = answers.get(question.key)
        if value == scoring.NA:
            answered_na.append(question.key)
        if value == scoring.NA or not value:
            missing.append(question.key)
    purchase = (scene.visit.wave.purchase or "").strip()
    receipt_missing = bool(purchase) and not any(e.kind == "receipt" for e in scene.evidence)
    if not missing and not receipt_missing:
        return None
    return {"questions": missing, "answered_na": answered_na, "receipt_missing": receipt_missing}


CHECKS: dict[str, Callable[[_Scene], Detail | None]] = {
    "outside_window": _outside_window,
    "outside_hours": _outside_hours,
    "short_duration": _short_duration,
    "far_check_in": _far_check_in,
    "store_without_location": _store_without_location,
    "poor_accuracy": _poor_accuracy,
    "photo_time": _photo_time,
    "duplicate_photo": _duplicate_photo,
    "copied_comment": _copied_comment,
    "straight_lining": _straight_lining,
    "missing_evidence": _missing_evidence,
}
assert set(CHECKS) == set(FLAG_CODES)


# --- small helpers ------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds")


def _minutes_up(gap: timedelta) -> int:
    return math.ceil(gap.total_seconds() / 60)


def _whole_minutes(gap: timedelta) -> int:
    return int(gap.total_seconds() // 60)


def _clock(text: str) -> int:
    """'09:30' -> seconds after midnight; '24:00' is the end of the day."""
    hours, minutes = (int(part) for part in str(text).split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60):
        raise ValueError(text)
    return hours * 3600 + minutes * 60


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
