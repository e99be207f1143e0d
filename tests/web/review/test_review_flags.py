"""Integrity flags on the review screen: the lists a check stores (photo_time.photos,
duplicate_photo.photos, copied_comment.comments) read as sentences, with links to this
visit's files and to the other visits the reader may open (only a number otherwise),
times in the store's time zone, and everything the check stored escaped."""

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from auditapp.extensions import db
from auditapp.models import Evidence
from auditapp.models.answers import VisitSubmission
from auditapp.models.review import VisitFlag
from auditapp.models.waves import Visit
from auditapp.services.review.flags import flag_view
from tests.conftest import count_queries, login
from tests.web.worlds.review import build_world, flags_html, flags_on_screen, submitted


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper):
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


def add_flag(visit: Visit, code: str, detail: dict[str, Any]) -> None:
    """A flag on the visit's latest submission, with exactly this detail."""
    latest = db.session.scalar(
        select(VisitSubmission.id)
        .where(VisitSubmission.visit_id == visit.id)
        .order_by(VisitSubmission.id.desc())
    )
    db.session.add(
        VisitFlag(visit_id=visit.id, submission_id=latest, code=code, penalty=15, detail=detail)
    )
    db.session.commit()


def add_file(visit: Visit, key: str | None = "shelf", kind: str = "photo") -> Evidence:
    evidence = Evidence(
        visit_id=visit.id, kind=kind, question_key=key, client_upload_id=f"up-{key}-{kind}",
        sha256="0" * 64, content_type="image/jpeg", size_bytes=10, stored_name="s.jpg",
    )  # fmt: skip
    db.session.add(evidence)
    db.session.commit()
    return evidence


def local(iso: str, zone: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


# --- the findings, read ------------------------------------------------------------------


def test_the_lists_become_findings_and_the_rest_stays_pairs():
    flag = VisitFlag(
        code="photo_time", penalty=15,
        detail={"basis": "visit", "start": "2026-05-01T06:00:00+00:00", "grace_minutes": 30,
                "photos": [{"evidence_id": 12, "kind": "receipt", "question_key": "",
                            "taken_at": "2026-05-01T07:40:00+00:00", "side": "after",
                            "minutes": 40}, "not a dict"]},
    )  # fmt: skip
    view = flag_view(flag, files={12: ""}, timezone="Asia/Shanghai")
    (late,) = view.late_files
    assert (late.file.evidence_id, late.file.kind, late.file.openable) == (12, "receipt", True)
    assert (late.side, late.minutes, late.basis) == ("after", 40, "visit")
    assert late.taken_at == datetime(2026, 5, 1, 7, 40, tzinfo=UTC)
    assert view.details == [
        ("basis", "visit"),
        ("start", "2026-05-01 14:00"),  # in the store's time zone
        ("grace minutes", "30"),
        ("photos", "not a dict"),  # what does not read is still shown
    ]


def test_other_visits_are_linked_only_when_the_reader_may_open_them():
    flag = VisitFlag(
        code="duplicate_photo", penalty=30,
        detail={"photos": [{"evidence_id": 7, "kind": "photo", "match": "picture",
                            "other_visit_ids": [31, 44], "other_evidence_ids": [90, 91]}]},
    )  # fmt: skip
    (reused,) = flag_view(flag, viewable={31}).reused_files
    assert reused.match == "picture" and not reused.file.openable  # not this visit's file
    assert [(v.id, v.viewable) for v in reused.visits] == [(31, True), (44, False)]
    comment = VisitFlag(
        code="copied_comment", penalty=20,
        detail={"comments": [{"section": "main", "other_visit_id": 18, "other_section": "",
                              "similarity": 0.934}]},
    )  # fmt: skip
    (copied,) = flag_view(comment, sections={"main": "Main"}).copied_comments
    assert (copied.section, copied.other_section, copied.percent) == ("Main", None, 93)
    assert (copied.visit.id, copied.visit.viewable) == (18, False)


# --- on the screen -----------------------------------------------------------------------


def test_a_photo_taken_outside_the_visit_reads_as_a_sentence(client, w):
    visit = submitted(w, w.store_north)
    photo, receipt = add_file(visit), add_file(visit, None, "receipt")
    zone = visit.store.timezone
    add_flag(visit, "photo_time", {
        "basis": "visit", "start": "2026-05-01T06:00:00+00:00",
        "end": "2026-05-01T06:30:00+00:00", "grace_minutes": 30,
        "photos": [
            {"evidence_id": photo.id, "kind": "photo", "question_key": "shelf",
             "taken_at": "2026-05-01T07:40:00+00:00", "side": "after", "minutes": 70},
            {"evidence_id": receipt.id, "kind": "receipt", "question_key": "",
             "taken_at": "2026-05-01T05:00:00+00:00", "side": "before", "minutes": 1},
        ],
    })  # fmt: skip
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, visit)
    assert (
        f"Photo #{photo.id} (Photo of the shelf) taken 70 minutes after check-out "
        f"({local('2026-05-01T07:40:00+00:00', zone)})"
    ) in text
    assert f"Receipt #{receipt.id} taken 1 minute before check-in" in text
    assert f"start: {local('2026-05-01T06:00:00+00:00', zone)}" in text
    assert f'<a href="/evidence/{photo.id}"' in markup
    assert f'<a href="/evidence/{receipt.id}"' in markup
    assert "evidence_id" not in text and "{" not in text


def test_a_photo_outside_the_window_without_check_in(client, w):
    visit = submitted(w, w.store_north)
    add_flag(visit, "photo_time", {"basis": "window", "photos": [
        {"evidence_id": 999999, "kind": "photo", "question_key": "shelf",
         "taken_at": "2026-05-01T05:00:00+00:00", "side": "before", "minutes": 45}]})  # fmt: skip
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, visit)
    assert "Photo #999999 (Photo of the shelf) taken 45 minutes before the visit window" in text
    assert "/evidence/999999" not in markup  # not one of this visit's files: no link


def test_a_reused_photo_links_only_the_visits_the_reader_may_open(client, w):
    visit = submitted(w, w.store_north)
    mine = submitted(w, w.store_south, w.bob)
    foreign = submitted(w, w.store_other)
    photo = add_file(visit)
    add_flag(visit, "duplicate_photo", {"photos": [
        {"evidence_id": photo.id, "kind": "photo", "match": "file",
         "other_visit_ids": [mine.id, foreign.id], "other_evidence_ids": [1, 2]},
        {"evidence_id": photo.id, "kind": "photo", "match": "picture",
         "other_visit_ids": [mine.id], "other_evidence_ids": [3]}]})  # fmt: skip
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, visit)
    assert (
        f"Photo #{photo.id} (Photo of the shelf) also used in visits #{mine.id}, #{foreign.id} "
        "(the same file)"
    ) in text
    assert f"also used in visit #{mine.id} (the same picture, re-saved or resized)" in text
    assert f'<a href="/review/visits/{mine.id}">#{mine.id}</a>' in markup
    assert f"/review/visits/{foreign.id}" not in markup  # another client's: number only


def test_a_copied_comment_names_both_comments(client, w):
    visit = submitted(w, w.store_north)
    other = submitted(w, w.store_south)
    add_flag(visit, "copied_comment", {"comments": [
        {"section": "", "other_visit_id": other.id, "other_section": "", "similarity": 0.934},
        {"section": "main", "other_visit_id": 424242, "other_section": "exit",
         "similarity": 1.0}]})  # fmt: skip
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, visit)
    assert f"Overall comment is 93% like the overall comment of visit #{other.id}" in text
    assert "Comment on “Main” is 100% like the comment on “Exit” of visit #424242" in text
    assert f'<a href="/review/visits/{other.id}">' in markup
    assert "/review/visits/424242" not in markup


def test_what_a_check_stored_is_escaped(client, w):
    visit = submitted(w, w.store_north)
    add_flag(visit, "copied_comment", {"comments": [
        {"section": "<b>x</b>", "other_visit_id": 5, "other_section": "<i>y</i>",
         "similarity": 0.9}], "note": "<script>alert(1)</script>"})  # fmt: skip
    add_flag(visit, "photo_time", {"photos": [
        {"evidence_id": 1, "kind": "<em>photo</em>", "question_key": "<img src=x>",
         "taken_at": "<u>", "side": "after", "minutes": 5}]})  # fmt: skip
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, visit)
    for raw in ("<b>", "<i>", "<script>", "<img src=x>", "<u>", "<em>"):
        assert raw not in markup, raw
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "&lt;script&gt;" in markup
    assert "&lt;img src=x&gt;" in markup
    assert "Comment on “<b>x</b>” is 90% like the comment on “<i>y</i>” of visit #5" in text


def test_naming_more_visits_costs_no_more_queries(app, client, w):
    visit = submitted(w, w.store_north)
    others = [submitted(w, w.store_south) for _n in range(3)]
    login(client, w.reviewer)

    def count(ids: list[int]) -> int:
        db.session.execute(delete(VisitFlag).where(VisitFlag.visit_id == visit.id))
        found = {"evidence_id": 1, "kind": "photo", "match": "file", "other_visit_ids": ids}
        add_flag(visit, "duplicate_photo", {"photos": [found]})
        client.get(f"/review/visits/{visit.id}")
        with count_queries(app) as statements:
            page = client.get(f"/review/visits/{visit.id}").text
        assert len(re.findall(r'href="/review/visits/\d+"', flags_html(page))) == len(ids)
        return len(statements)

    assert count([o.id for o in others]) == count([others[0].id])
