"""Integrity checks of a submitted visit (services/visits/integrity.py): each check once
failing and once passing (at its limit where it has one), the score, and flags kept
per submission. Submissions are built directly and the checks called on them, so each
test sets exactly the facts it is about; the last test goes through the real submit."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import Evidence
from auditapp.models.answers import VisitSubmission
from auditapp.models.review import FLAG_CODES, VisitFlag
from auditapp.models.waves import IN_PROGRESS, RETURNED, SUBMITTED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.visits import evidence as evidence_service
from auditapp.services.visits import integrity
from tests.conftest import login, page_text
from tests.web import evidence_images as pics
from tests.web.evidence_images import scene
from tests.web.statuses import new_visit, walk_to
from tests.web.worlds.visit_form import post, reload

DOC: dict[str, Any] = {
    "title": "Integrity checks",
    "language": "en",
    "sections": [
        {"key": "service", "title": "Service", "questions": [
            *({"key": f"q{n}", "text": f"Standard {n} met?", "type": "yes_no",
               "na_allowed": True} for n in range(1, 10)),
            {"key": "rating", "text": "Overall", "type": "scale", "min": 1, "max": 5},
            {"key": "offered", "text": "What was offered?", "type": "multi",
             "options": [{"value": "bag", "label": "A bag", "points": 1},
                         {"value": "card", "label": "A card", "points": 1}]},
        ]},
        {"key": "store", "title": "Store", "questions": [
            {"key": "shelf_photo", "text": "Photo of the shelf", "type": "photo",
             "required": True, "na_allowed": True},
            {"key": "promo_photo", "text": "Photo of the missing promotion", "type": "photo",
             "required": True, "show_if": {"question": "q1", "equals": "no"}},
            {"key": "extra_photo", "text": "Anything else worth a photo", "type": "photo"},
        ]},
    ],
}  # fmt: skip

# Wednesday 5 March 2025, 12:00-13:00 in Shanghai (UTC+8); the store opens 09:00-21:00.
WINDOW = datetime(2025, 3, 5, 4, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper):
    client = make_client("INTG", name="Integrity brand")
    store = make_store(client, make_region(client, "R1"), "S1")
    checklist = checklists.create_checklist(client, "", None, DOC)
    version = checklists.publish(checklist.versions[0], None)
    wave = Wave(
        client=client, checklist_version=version, name="March", starts_on=date(2025, 3, 1),
        ends_on=date(2025, 3, 31), status="open", stores=[store], min_duration_minutes=10,
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return SimpleNamespace(
        client=client,
        store=store,
        wave=wave,
        ann=make_shopper("ann.integ@example.com", name="Ann"),
        bob=make_shopper("bob.integ@example.com", name="Bob"),
        make_client=make_client,
        make_region=make_region,
        make_store=make_store,
    )


def make_visit(world, day: int = 0, shopper=None, wave=None, store=None, **fields) -> Visit:
    """A visit checked in 10 minutes into its window, at the store, for 30 minutes."""
    start = WINDOW + timedelta(days=day)
    store = store or world.store
    values: dict[str, Any] = {
        "started_at": start + 10 * MINUTE,
        "finished_at": start + 40 * MINUTE,
        "start_latitude": store.latitude,
        "start_longitude": store.longitude,
        "start_accuracy_m": 20,
    }
    values.update(fields)
    wave = wave or world.wave
    return new_visit(
        IN_PROGRESS, (shopper or world.ann).id,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + 60 * MINUTE, **values,
    )  # fmt: skip


def add_evidence(visit: Visit, kind: str = "photo", **fields) -> Evidence:
    """An evidence row as the upload makes it (no file: the checks read the row)."""
    values: dict[str, Any] = {
        "question_key": "shelf_photo" if kind == "photo" else None,
        "sha256": uuid.uuid4().hex * 2,
        "dhash": uuid.uuid4().hex[:16],
        "taken_at": (visit.started_at or visit.window_start) + 5 * MINUTE,
    }
    values.update(fields)
    evidence = Evidence(
        visit_id=visit.id, kind=kind, client_upload_id=uuid.uuid4().hex,
        content_type="image/jpeg", size_bytes=1000, stored_name="x.jpg", **values,
    )  # fmt: skip
    db.session.add(evidence)
    db.session.flush()
    return evidence


def good_answers(visit: Visit, **changes: Any) -> dict[str, Any]:
    """Varied answers with the shelf photo given; None in `changes` removes an answer."""
    photos = db.session.scalars(
        select(Evidence.id).where(
            Evidence.visit_id == visit.id, Evidence.question_key == "shelf_photo"
        )
    ).all()
    answers: dict[str, Any] = {f"q{n}": "yes" for n in range(1, 10)}
    answers |= {"q2": "no", "rating": 4, "offered": ["bag"]}
    if photos:
        answers["shelf_photo"] = [str(p) for p in photos]
    answers |= changes
    return {k: v for k, v in answers.items() if v is not None}


def submitted(
    visit: Visit, answers: dict[str, Any] | None = None, comments=None, at=None
) -> VisitSubmission:
    """The visit walked to submitted with a submission row, as submit() leaves it."""
    walk_to(visit, SUBMITTED)
    submission = VisitSubmission(
        visit_id=visit.id,
        client_submission_id=uuid.uuid4().hex,
        submitted_at=at or (visit.finished_at or visit.window_end) + 5 * MINUTE,
        answers=good_answers(visit) if answers is None else answers,
        comments={"": "All fine."} if comments is None else comments,
        sections={},
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def check(app, visit: Visit, submission: VisitSubmission | None = None) -> dict[str, VisitFlag]:
    """Runs the checks on the visit's submission (a fresh one, with a photo, if none)."""
    if submission is None:
        if not db.session.scalars(select(Evidence).where(Evidence.visit_id == visit.id)).all():
            add_evidence(visit)
        submission = submitted(visit)
    with app.app_context():
        flags = integrity.check_submission(visit, submission)
    return {flag.code: flag for flag in flags}


# --- all clear, and the score ---------------------------------------------------------


def test_a_clean_visit_has_no_flags_and_scores_100(app, world):
    visit = make_visit(world)
    assert check(app, visit) == {}
    assert visit.integrity_score == 100


def test_every_code_has_a_penalty():
    assert set(integrity.PENALTIES) == set(FLAG_CODES)
    # Only the store's own missing data costs the shopper nothing.
    free = {code for code, p in integrity.PENALTIES.items() if p == 0}
    assert free == {"store_without_location"}
    assert all(0 <= p <= 100 for p in integrity.PENALTIES.values())


def test_score_is_100_minus_the_penalties(app, world):
    visit = make_visit(world, started_at=WINDOW - 20 * MINUTE, finished_at=WINDOW + 20 * MINUTE)
    add_evidence(visit)
    submission = submitted(visit, good_answers(visit, shelf_photo="na"))
    flags = check(app, visit, submission)
    assert set(flags) == {"outside_window", "missing_evidence"}
    assert visit.integrity_score == 100 - 15 - 15 == 70
    stored = db.session.scalars(select(VisitFlag).where(VisitFlag.visit_id == visit.id)).all()
    assert {(f.code, f.penalty, f.submission_id) for f in stored} == {
        ("outside_window", 15, submission.id),
        ("missing_evidence", 15, submission.id),
    }


def test_score_never_drops_below_zero(app, world):
    world.store.opening_hours = {**world.store.opening_hours, "wed": None}
    world.wave.purchase = "A bottle of water"
    other = make_visit(world, day=-1, shopper=world.bob)
    copied = "The staff greeted me at once and explained every offer clearly."
    submitted(other, comments={"": copied})
    shared = add_evidence(other)
    visit = make_visit(
        world,
        started_at=WINDOW - 120 * MINUTE,
        finished_at=WINDOW - 118 * MINUTE,
        start_latitude=Decimal("31.280000"),
        start_accuracy_m=900,
    )
    add_evidence(visit, sha256=shared.sha256, taken_at=WINDOW - 119 * MINUTE)
    answers = {f"q{n}": "yes" for n in range(1, 10)}
    flags = check(app, visit, submitted(visit, answers, comments={"service": copied}))
    # Everything but a late photo (its photo is both reused and late: one finding) and
    # a store without coordinates (this one has them: it was checked, and is far).
    assert set(flags) == set(FLAG_CODES) - {"photo_time", "store_without_location"}
    assert sum(f.penalty for f in flags.values()) == 155
    assert visit.integrity_score == 0


def test_flags_are_kept_per_submission_and_the_score_follows_the_latest(app, world):
    visit = make_visit(world)
    add_evidence(visit)
    first = submitted(visit, good_answers(visit, shelf_photo="na"))
    assert set(check(app, visit, first)) == {"missing_evidence"}
    assert visit.integrity_score == 85
    walk_to(visit, RETURNED)
    second = submitted(visit)  # sent again, now with the photo
    assert check(app, visit, second) == {}
    assert visit.integrity_score == 100
    # Checking the earlier submission again keeps its flags once and the score alone.
    assert set(check(app, visit, first)) == {"missing_evidence"}
    assert visit.integrity_score == 100
    stored = db.session.execute(
        select(VisitFlag.submission_id, VisitFlag.code).where(VisitFlag.visit_id == visit.id)
    ).all()
    assert stored == [(first.id, "missing_evidence")]


def test_details_are_plain_json(app, world):
    world.store.opening_hours = {**world.store.opening_hours, "wed": None}
    visit = make_visit(world, start_latitude=Decimal("31.240000"), start_accuracy_m=400)
    add_evidence(visit, taken_at=WINDOW - 300 * MINUTE)
    flags = check(app, visit)
    assert {"outside_hours", "far_check_in", "poor_accuracy", "photo_time"} <= set(flags)
    for flag in flags.values():
        assert json.loads(json.dumps(flag.detail)) == flag.detail


# --- outside_window -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        (WINDOW - 16 * MINUTE, {"minutes_early": 16}),
        (WINDOW + 76 * MINUTE, {"minutes_late": 16}),
        (WINDOW - 15 * MINUTE - timedelta(seconds=1), {"minutes_early": 16}),
    ],
)
def test_check_in_beyond_the_grace_is_outside_the_window(app, world, started, expected):
    visit = make_visit(world, started_at=started, finished_at=started + 30 * MINUTE)
    flags = check(app, visit)
    assert set(flags) == {"outside_window"}
    assert flags["outside_window"].detail == {
        "checked_in_at": started.isoformat(),
        "source": "check_in",
        "window_start": "2025-03-05T04:00:00+00:00",
        "window_end": "2025-03-05T05:00:00+00:00",
        "grace_minutes": 15,
        **expected,
    }
    assert flags["outside_window"].penalty == 15


@pytest.mark.parametrize("started", [WINDOW - 15 * MINUTE, WINDOW + 75 * MINUTE])
def test_check_in_exactly_at_the_grace_limit_is_inside(app, world, started):
    visit = make_visit(world, started_at=started, finished_at=started + 30 * MINUTE)
    assert "outside_window" not in check(app, visit)


def test_without_check_in_the_submission_time_is_judged(app, world):
    late = make_visit(world, started_at=None, finished_at=None)
    add_evidence(late)
    flags = check(app, late, submitted(late, at=WINDOW + 3 * 60 * MINUTE))
    assert flags["outside_window"].detail["source"] == "submission"
    assert flags["outside_window"].detail["minutes_late"] == 120
    in_time = make_visit(world, day=1, started_at=None, finished_at=None)
    add_evidence(in_time)
    sent = submitted(in_time, at=in_time.window_end + 10 * MINUTE)
    assert "outside_window" not in check(app, in_time, sent)


# --- outside_hours --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "flagged"),
    [
        (["13:00", "21:00"], True),  # checked in 12:10, before opening
        (["09:00", "12:10"], True),  # at closing time: closed
        (["12:10", "21:00"], False),  # at opening time: open
        (["09:00", "12:11"], False),
        (None, True),  # closed on Wednesdays
    ],
)
def test_check_in_outside_the_opening_hours_of_that_weekday(app, world, hours, flagged):
    world.store.opening_hours = {**world.store.opening_hours, "wed": hours}
    flags = check(app, make_visit(world))
    assert ("outside_hours" in flags) is flagged
    if flagged:
        assert flags["outside_hours"].detail == {
            "checked_in_at": "2025-03-05T04:10:00+00:00",
            "source": "check_in",
            "local_time": "2025-03-05 12:10",
            "weekday": "wed",
            "timezone": "Asia/Shanghai",
            "hours": hours or [],
            "closed": hours is None,
        }


def test_opening_hours_are_read_in_the_store_time_zone(app, world):
    # 20:10 UTC on Wednesday is 04:10 on Thursday in Shanghai, before Thursday opens.
    world.store.opening_hours = {**world.store.opening_hours, "wed": ["00:00", "24:00"]}
    started = WINDOW + (16 * 60 + 10) * MINUTE
    visit = make_visit(world, started_at=started, finished_at=started + 30 * MINUTE)
    flags = check(app, visit)
    assert flags["outside_hours"].detail["weekday"] == "thu"
    assert flags["outside_hours"].detail["local_time"] == "2025-03-06 04:10"
    world.store.timezone = "UTC"  # the same moment a week later is still Wednesday
    started += timedelta(days=7)
    other = make_visit(world, day=7, started_at=started, finished_at=started + 30 * MINUTE)
    assert "outside_hours" not in check(app, other)


def test_store_without_opening_hours_on_file_is_not_judged(app, world):
    world.store.opening_hours = {}
    assert "outside_hours" not in check(app, make_visit(world))


# --- short_duration -------------------------------------------------------------------


def test_visit_shorter_than_the_minimum_is_flagged(app, world):
    start = WINDOW + 10 * MINUTE
    visit = make_visit(world, finished_at=start + 10 * MINUTE - timedelta(seconds=1))
    flags = check(app, visit)
    assert set(flags) == {"short_duration"}
    assert flags["short_duration"].detail == {"minutes": 9.9, "minimum": 10, "checked_in": True}


def test_visit_of_exactly_the_minimum_is_long_enough(app, world):
    start = WINDOW + 10 * MINUTE
    assert check(app, make_visit(world, finished_at=start + 10 * MINUTE)) == {}


def test_visit_without_check_in_cannot_show_its_length(app, world):
    visit = make_visit(world, started_at=None, finished_at=None)
    add_evidence(visit)
    flags = check(app, visit, submitted(visit, at=WINDOW + 30 * MINUTE))
    assert set(flags) == {"short_duration"}
    assert flags["short_duration"].detail == {"minutes": None, "minimum": 10, "checked_in": False}


def test_without_check_out_the_submission_ends_the_visit(app, world):
    visit = make_visit(world, finished_at=None)
    add_evidence(visit)
    flags = check(app, visit, submitted(visit, at=WINDOW + 15 * MINUTE))
    assert flags["short_duration"].detail["minutes"] == 5.0


def test_wave_without_a_minimum_does_not_judge_the_length(app, world):
    world.wave.min_duration_minutes = 0
    visit = make_visit(world, started_at=None, finished_at=None)
    add_evidence(visit)
    assert "short_duration" not in check(app, visit, submitted(visit, at=WINDOW + 30 * MINUTE))


# --- far_check_in and poor_accuracy ---------------------------------------------------


def test_check_in_far_from_the_store_is_flagged(app, world):
    # 0.0028° of latitude north of the store: 311 m.
    visit = make_visit(world, start_latitude=Decimal("31.233200"))
    flags = check(app, visit)
    assert set(flags) == {"far_check_in"}
    assert flags["far_check_in"].penalty == 25
    assert flags["far_check_in"].detail == {
        "metres": 311,
        "maximum": 300,
        "accuracy_m": 20,
        "latitude": 31.2332,
        "longitude": 121.4737,
        "store_latitude": 31.2304,
        "store_longitude": 121.4737,
    }


def test_check_in_at_the_distance_limit_is_near_enough(app, world):
    visit = make_visit(world, start_latitude=Decimal("31.233098"))  # 300.004 m
    assert check(app, visit) == {}


def test_vague_location_is_flagged(app, world):
    flags = check(app, make_visit(world, start_accuracy_m=151))
    assert set(flags) == {"poor_accuracy"}
    assert flags["poor_accuracy"].detail == {"accuracy_m": 151, "maximum": 150}
    assert flags["poor_accuracy"].penalty == 10


@pytest.mark.parametrize("accuracy", [150, None])
def test_location_at_the_accuracy_limit_or_without_accuracy_is_not_flagged(app, world, accuracy):
    assert check(app, make_visit(world, start_accuracy_m=accuracy)) == {}


def test_no_location_shared_means_no_location_flags(app, world):
    # Location is asked with consent: a shopper who said no is not marked down for it.
    visit = make_visit(world, start_latitude=None, start_longitude=None, start_accuracy_m=999)
    assert check(app, visit) == {}


def test_store_without_coordinates_is_flagged_rather_than_passed_unchecked(app, world):
    # 74 km north of where the store really is: with nothing to measure against, the
    # distance check cannot pass it; the reviewer is told instead, at no cost to the
    # shopper (the store's data is missing, not theirs).
    visit = make_visit(world, start_latitude=Decimal("31.900000"))
    world.store.latitude = world.store.longitude = None
    flags = check(app, visit)
    assert set(flags) == {"store_without_location"}
    assert flags["store_without_location"].penalty == 0
    assert flags["store_without_location"].detail == {
        "store_code": "S1",
        "latitude": 31.9,
        "longitude": 121.4737,
    }
    assert visit.integrity_score == 100


def test_store_without_coordinates_is_flagged_when_the_shopper_shared_no_location(app, world):
    world.store.longitude = None
    visit = make_visit(world, start_latitude=None, start_longitude=None)
    flags = check(app, visit)
    assert set(flags) == {"store_without_location"}
    assert flags["store_without_location"].detail == {"store_code": "S1"}


def test_review_screen_explains_the_store_without_location(app, client, world, make_user):
    world.store.latitude = world.store.longitude = None
    visit = make_visit(world)
    check(app, visit)
    admin = make_user("admin.integ@example.com", "admin")
    db.session.commit()
    login(client, admin)
    page = client.get(f"/review/visits/{visit.id}")
    assert page.status_code == 200
    assert 'data-flag="store_without_location"' in page.text
    text = page_text(page.text)
    assert "Distance not checked: the store has no location on file" in text
    assert "store code: S1" in text


# --- photo_time -----------------------------------------------------------------------


def test_photo_taken_long_before_check_in_or_after_check_out_is_flagged(app, world):
    visit = make_visit(world)  # 04:10-04:40 UTC
    early = add_evidence(visit, taken_at=WINDOW + 10 * MINUTE - 31 * MINUTE)
    late = add_evidence(visit, kind="receipt", taken_at=WINDOW + 40 * MINUTE + 90 * MINUTE)
    add_evidence(visit, taken_at=None)  # no EXIF time: not judged
    flags = check(app, visit)
    assert set(flags) == {"photo_time"}
    assert flags["photo_time"].detail == {
        "basis": "visit",
        "start": "2025-03-05T04:10:00+00:00",
        "end": "2025-03-05T04:40:00+00:00",
        "grace_minutes": 30,
        "photos": [
            {"evidence_id": early.id, "kind": "photo", "question_key": "shelf_photo",
             "taken_at": "2025-03-05T03:39:00+00:00", "side": "before", "minutes": 31},
            {"evidence_id": late.id, "kind": "receipt", "question_key": "",
             "taken_at": "2025-03-05T06:10:00+00:00", "side": "after", "minutes": 90},
        ],
    }  # fmt: skip


def test_photos_within_the_grace_are_fine(app, world):
    visit = make_visit(world)
    add_evidence(visit, taken_at=WINDOW + 10 * MINUTE - 30 * MINUTE)
    add_evidence(visit, kind="receipt", taken_at=WINDOW + 40 * MINUTE + 30 * MINUTE)
    assert check(app, visit) == {}


def test_without_check_in_photos_are_judged_by_the_window(app, world):
    visit = make_visit(world, started_at=None, finished_at=None)
    add_evidence(visit, taken_at=WINDOW + 50 * MINUTE)
    fine = check(app, visit, submitted(visit, at=WINDOW + 55 * MINUTE))
    assert "photo_time" not in fine
    other = make_visit(world, day=1, started_at=None, finished_at=None)
    add_evidence(other, taken_at=other.window_end + 31 * MINUTE)
    flags = check(app, other, submitted(other, at=other.window_end))
    assert flags["photo_time"].detail["basis"] == "window"
    assert flags["photo_time"].detail["photos"][0]["minutes"] == 31


# --- duplicate_photo ------------------------------------------------------------------


def test_same_file_on_another_visit_is_a_duplicate(app, world):
    other = make_visit(world, day=-3, shopper=world.bob)
    theirs = add_evidence(other)
    visit = make_visit(world)
    mine = add_evidence(visit, sha256=theirs.sha256)
    flags = check(app, visit)
    assert set(flags) == {"duplicate_photo"}
    assert flags["duplicate_photo"].penalty == 30
    assert flags["duplicate_photo"].detail == {
        "photos": [
            {"evidence_id": mine.id, "kind": "photo", "match": "file",
             "other_visit_ids": [other.id], "other_evidence_ids": [theirs.id]},
        ]
    }  # fmt: skip


def test_same_picture_saved_again_is_a_duplicate_even_of_the_same_shopper(app, world):
    other = make_visit(world, day=-3)
    first, second = add_evidence(other), add_evidence(make_visit(world, day=-2, shopper=world.bob))
    visit = make_visit(world)
    receipt = add_evidence(visit, kind="receipt", dhash=first.dhash)
    photo = add_evidence(visit, dhash=second.dhash)
    flags = check(app, visit)
    assert flags["duplicate_photo"].detail["photos"] == [
        {"evidence_id": receipt.id, "kind": "receipt", "match": "picture",
         "other_visit_ids": [other.id], "other_evidence_ids": [first.id]},
        {"evidence_id": photo.id, "kind": "photo", "match": "picture",
         "other_visit_ids": [second.visit_id], "other_evidence_ids": [second.id]},
    ]  # fmt: skip


def test_photos_of_this_visit_alone_and_blank_pictures_are_no_duplicates(app, world):
    other = make_visit(world, day=-3, shopper=world.bob)
    add_evidence(other, dhash="0" * 16)
    visit = make_visit(world)
    one = add_evidence(visit, dhash="0" * 16)  # a blank picture: every hash bit equal
    add_evidence(visit, sha256=one.sha256)  # the same file twice on the one visit
    assert check(app, visit) == {}


def test_a_resized_copy_uploaded_to_another_visit_is_found(app, world, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    other = make_visit(world, day=-3, shopper=world.bob)
    visit = make_visit(world)
    original = pics.encode(scene(11), "JPEG", quality=92)
    resized = pics.encode(scene(11).resize((500, 333), Image.Resampling.LANCZOS), "PNG")
    with app.test_request_context():
        store = evidence_service.store_upload
        theirs = store(other, None, original, "a.jpg", "u1", "photo", "shelf_photo")
        mine = store(visit, None, resized, "b.png", "u1", "photo", "shelf_photo")
        fresh = store(visit, None, pics.encode(scene(12), "JPEG"), "c.jpg", "u2", "photo")
    assert mine.dhash == theirs.dhash and mine.sha256 != theirs.sha256
    assert fresh.dhash != mine.dhash
    flags = check(app, visit)
    assert flags["duplicate_photo"].detail["photos"] == [
        {"evidence_id": mine.id, "kind": "photo", "match": "picture",
         "other_visit_ids": [other.id], "other_evidence_ids": [theirs.id]},
    ]  # fmt: skip


# --- copied_comment -------------------------------------------------------------------

EARLIER = "The staff greeted me at once and explained every offer clearly."
CHINESE = "店员很热情，主动问候并详细介绍了新款手机的功能和优惠活动，收银速度也很快。"


def _earlier_visit(world, comments: dict[str, str], **kw: Any) -> Visit:
    other = make_visit(world, day=kw.pop("day", -5), shopper=kw.pop("shopper", world.bob), **kw)
    submitted(other, comments=comments)
    return other


@pytest.mark.parametrize(
    ("theirs", "mine"),
    [
        (EARLIER, "the staff greeted me at once, and explained EVERY offer clearly!"),
        (EARLIER, "The staff greeted me at once and explained every offer very clearly."),
        (CHINESE, "店员很热情，主动问候并详细介绍了新款手机的功能和优惠活动，收银速度很快！"),
    ],
    ids=["same", "one_word_added", "chinese"],
)
def test_comment_copied_from_an_earlier_visit_is_flagged(app, world, theirs, mine):
    other = _earlier_visit(world, {"store": theirs})
    visit = make_visit(world)
    add_evidence(visit)
    flags = check(app, visit, submitted(visit, comments={"": "Fine.", "service": mine}))
    assert set(flags) == {"copied_comment"}
    (found,) = flags["copied_comment"].detail["comments"]
    assert (found["section"], found["other_visit_id"], found["other_section"]) == (
        "service",
        other.id,
        "store",
    )
    assert 0.8 <= found["similarity"] <= 1
    assert flags["copied_comment"].penalty == 20


def test_similarity_of_exactly_four_fifths_counts_as_a_copy(app, world):
    theirs, mine = "abcdefghijklmnopqrst", "abcdefghijklmnopqrXY"
    assert integrity.comment_similarity(theirs, mine) == 0.8
    _earlier_visit(world, {"": theirs})
    visit = make_visit(world)
    add_evidence(visit)
    flags = check(app, visit, submitted(visit, comments={"": mine}))
    assert flags["copied_comment"].detail["comments"][0]["similarity"] == 0.8


@pytest.mark.parametrize(
    "mine",
    [
        "abcdefghijklmnopqXYZ",  # three letters changed: 15 of 21 trigrams shared
        "Nobody spoke to me for fifteen minutes; the shelves were half empty.",
        "Fine, thanks.",  # too short to tell a copy from a habit
        "店员态度冷淡，没有主动问候，也没有介绍任何产品，排队结账等了十分钟。",
    ],
)
def test_different_or_short_comments_are_not_copies(app, world, mine):
    _earlier_visit(world, {"": "abcdefghijklmnopqrst", "store": EARLIER, "service": CHINESE})
    _earlier_visit(world, {"": "Fine, thanks."}, day=-6)
    visit = make_visit(world)
    add_evidence(visit)
    assert check(app, visit, submitted(visit, comments={"": mine})) == {}


def test_only_earlier_recent_latest_comments_of_the_same_client_count(app, world):
    other_client = world.make_client("ELSE", name="Another brand")
    their_store = world.make_store(other_client, world.make_region(other_client, "R9"), "E1")
    their_wave = Wave(
        client=other_client, checklist_version=world.wave.checklist_version, name="Theirs",
        starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31), status="open",
        stores=[their_store],
    )  # fmt: skip
    db.session.add(their_wave)
    db.session.flush()
    _earlier_visit(world, {"": EARLIER}, wave=their_wave, store=their_store)  # other client
    old = make_visit(world, day=-200, shopper=world.bob)
    submitted(old, comments={"": EARLIER})  # more than 180 days before
    revised = _earlier_visit(world, {"": EARLIER}, day=-4)
    walk_to(revised, RETURNED)
    submitted(revised, comments={"": "Rewritten after the reviewer's note."})  # its latest
    visit = make_visit(world)
    add_evidence(visit)
    mine = submitted(visit, comments={"": EARLIER})
    later = make_visit(world, day=2, shopper=world.bob)
    submitted(later, comments={"": EARLIER}, at=mine.submitted_at + 60 * MINUTE)  # after
    assert check(app, visit, mine) == {}


# --- straight_lining ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "count"),
    [
        ({"q2": "yes", "rating": None, "offered": None}, 9),
        ({"q2": "yes", "q9": "na", "rating": None}, 8),  # N/A left out, a multi ignored
    ],
)
def test_every_choice_answer_the_same_is_straight_lining(app, world, changes, count):
    visit = make_visit(world)
    add_evidence(visit)
    flags = check(app, visit, submitted(visit, good_answers(visit, **changes)))
    assert set(flags) == {"straight_lining"}
    assert flags["straight_lining"].detail == {"count": count, "value": "yes"}
    assert flags["straight_lining"].penalty == 10


@pytest.mark.parametrize(
    "changes",
    [
        {"q2": "yes", "q8": "na", "q9": "na", "rating": None},  # only 7 answered
        {"q2": "yes"},  # the rating differs
        {},
    ],
)
def test_fewer_than_eight_or_varied_answers_are_not_straight_lining(app, world, changes):
    visit = make_visit(world)
    add_evidence(visit)
    assert check(app, visit, submitted(visit, good_answers(visit, **changes))) == {}


# --- missing_evidence -----------------------------------------------------------------


def test_photo_question_answered_na_or_left_empty_is_missing_evidence(app, world):
    visit = make_visit(world)
    na = check(app, visit, submitted(visit, good_answers(visit, shelf_photo="na")))
    assert na["missing_evidence"].detail == {
        "questions": ["shelf_photo"],
        "answered_na": ["shelf_photo"],
        "receipt_missing": False,
    }
    other = make_visit(world, day=1)
    empty = check(app, other, submitted(other, good_answers(other)))  # no photo uploaded
    assert empty["missing_evidence"].detail["questions"] == ["shelf_photo"]
    assert empty["missing_evidence"].detail["answered_na"] == []


def test_a_follow_up_photo_counts_only_when_visible(app, world):
    visit = make_visit(world)
    add_evidence(visit)
    shown = check(app, visit, submitted(visit, good_answers(visit, q1="no")))
    assert shown["missing_evidence"].detail["questions"] == ["promo_photo"]
    hidden = make_visit(world, day=1)
    add_evidence(hidden)
    assert check(app, hidden, submitted(hidden, good_answers(hidden, q1="yes"))) == {}


def test_receipt_is_needed_when_the_wave_says_what_to_buy(app, world):
    world.wave.purchase = "A bottle of water"
    without = make_visit(world)
    flags = check(app, without)
    assert flags["missing_evidence"].detail == {
        "questions": [],
        "answered_na": [],
        "receipt_missing": True,
    }
    with_receipt = make_visit(world, day=1)
    add_evidence(with_receipt)
    add_evidence(with_receipt, kind="receipt")
    assert check(app, with_receipt) == {}


# --- through the real submit ----------------------------------------------------------


def test_submit_runs_the_integrity_checks(client, world):
    """Wired in services/visit_form.submit: the shopper's submit stores the flags."""
    world.store.opening_hours = {day: ["00:00", "24:00"] for day in world.store.opening_hours}
    visit = make_visit(world, started_at=None, finished_at=None, start_latitude=None)
    db.session.commit()
    login(client, world.ann.user)
    fields = {f"q_q{n}": "yes" for n in range(1, 10)} | {"q_q2": "no", "q_rating": "4"}
    fields["na_shelf_photo"] = "y"
    response = post(
        client, f"/my/visits/{visit.id}/submit", submission_id="integ-0001", action="submit",
        **fields,
    )  # fmt: skip
    assert response.status_code == 302, response.text
    visit = reload(visit)
    submission = db.session.scalars(
        select(VisitSubmission).where(VisitSubmission.visit_id == visit.id)
    ).one()
    codes = set(
        db.session.scalars(select(VisitFlag.code).where(VisitFlag.submission_id == submission.id))
    )
    # Never checked in, sent long after its window, and the shelf photo said N/A.
    assert codes == {"outside_window", "short_duration", "missing_evidence"}
    assert visit.integrity_score == 100 - 15 - 15 - 15
