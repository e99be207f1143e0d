"""Near-duplicate photos (services/visits/photo_index.py): the band index finds exactly the
stored hashes within the distance (checked against a brute-force scan), only among the
client's own photos; the integrity check flags a resized, brightened, slightly cropped
copy of an earlier photo as "similar" with its distance; and the review screen shows
the two pictures side by side."""

import random
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from PIL import Image, ImageEnhance
from sqlalchemy import insert, select

from auditapp import create_app
from auditapp.extensions import db
from auditapp.models import Evidence, utcnow
from auditapp.models.answers import PhotoHashBand, VisitSubmission
from auditapp.models.review import VisitFlag
from auditapp.models.waves import IN_PROGRESS, SUBMITTED, Visit, Wave
from auditapp.services.visits import evidence as evidence_service
from auditapp.services.visits import integrity, photo_index
from tests.conftest import count_queries, login
from tests.web import evidence_images as pics
from tests.web.evidence_images import scene
from tests.web.statuses import new_visit, walk_to
from tests.web.worlds.review import build_world, flags_on_screen

BLANK = "0" * 16


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper):
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


def visit_of(w: SimpleNamespace, wave: Wave | None = None, shopper=None) -> Visit:
    """A visit in progress, a day earlier than the one made before it."""
    wave = wave or w.wave
    store = w.store_other if wave is w.other_wave else w.store_north
    w.days += 1
    start = (utcnow() - timedelta(days=w.days)).replace(hour=4, minute=0, second=0, microsecond=0)
    return new_visit(
        IN_PROGRESS, (shopper or w.ann).id,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        started_at=start + timedelta(minutes=5), finished_at=start + timedelta(minutes=40),
    )  # fmt: skip


def hex64(value: int) -> str:
    return f"{value:016x}"


def flip(value: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def bits_apart(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def store_hashes(visits: list[Visit], client_id: int, hashes: list[str]) -> list[int]:
    """Evidence rows with these hashes (spread over the visits) and their bands, written
    with the band rule itself; returns their ids in order."""
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "visit_id": visits[n % len(visits)].id,
            "kind": "photo",
            "client_upload_id": f"{tag}-{n}",
            "sha256": f"{n:064x}",
            "dhash": dhash,
            "content_type": "image/jpeg",
            "size_bytes": 1,
            "stored_name": "x.jpg",
        }  # fmt: skip
        for n, dhash in enumerate(hashes)
    ]
    db.session.execute(insert(Evidence), rows)
    ids = list(
        db.session.scalars(
            select(Evidence.id)
            .where(Evidence.client_upload_id.like(f"{tag}-%"))
            .order_by(Evidence.id)
        )
    )
    bands = [
        {"evidence_id": eid, "band": b, "client_id": client_id,
         "value": (int(dhash, 16) >> (16 * (3 - b))) & 0xFFFF,
         "dhash": int.from_bytes(bytes.fromhex(dhash), "big", signed=True)}
        for eid, dhash in zip(ids, hashes, strict=True)
        for b in range(4)
    ]  # fmt: skip
    db.session.execute(insert(PhotoHashBand), bands)
    db.session.flush()
    return ids


# --- the index against a brute-force scan ------------------------------------------------


@pytest.fixture
def stored(w):
    """3,000 random hashes of the client, neighbours of five queries planted at every
    distance 0..8 (three each), a blank hash, and the queries themselves stored for
    ANOTHER client (which must never come back)."""
    rng = random.Random(19)
    queries = [rng.getrandbits(64) for _ in range(5)]
    hashes = [hex64(rng.getrandbits(64)) for _ in range(3000)]
    hashes += [hex64(flip(q, k, rng)) for q in queries for k in range(9) for _ in range(3)]
    hashes.append(BLANK)
    visits = [visit_of(w) for _ in range(3)]
    ids = store_hashes(visits, w.client.id, hashes)
    numbered = enumerate(zip(ids, hashes, strict=True))
    foreign = store_hashes([visit_of(w, w.other_wave)], w.other.id, [hex64(q) for q in queries])
    return SimpleNamespace(
        queries=[hex64(q) for q in queries],
        rows=[(eid, visits[n % 3].id, h) for n, (eid, h) in numbered],
        foreign=set(foreign),
        visits=visits,
    )


@pytest.mark.parametrize("most", [3, 6, 9])
def test_the_index_finds_every_stored_hash_within_the_distance_and_nothing_else(
    app, w, stored, most
):
    with app.app_context():
        for query in stored.queries:
            found = photo_index.similar_photos(query, w.client.id, most, limit=100_000)
            expected = sorted(
                ((eid, vid, bits_apart(query, h)) for eid, vid, h in stored.rows
                 if h != BLANK and bits_apart(query, h) <= most),
                key=lambda t: (t[2], t[0]),
            )  # fmt: skip
            assert [tuple(s) for s in found] == expected
            assert len(expected) >= 3 * min(most + 1, 9)  # at least the planted ones


def test_only_the_clients_own_photos_are_candidates(app, w, stored):
    with app.app_context():
        for query in stored.queries:
            found = {s.evidence_id for s in photo_index.similar_photos(query, w.client.id, 9)}
            assert found and not found & stored.foreign
            theirs = photo_index.similar_photos(query, w.other.id, 9)
            assert [s.distance for s in theirs] == [0]
            assert theirs[0].evidence_id in stored.foreign


def test_a_lookup_leaves_out_a_visit_and_later_photos_and_keeps_the_limit(app, w, stored):
    query = stored.queries[0]
    with app.app_context():
        every = photo_index.similar_photos(query, w.client.id, 8, limit=1000)
        skipped = stored.visits[0].id
        assert any(s.visit_id == skipped for s in every)
        without = photo_index.similar_photos(query, w.client.id, 8, exclude_visit_id=skipped)
        assert without == [s for s in every if s.visit_id != skipped][: photo_index.LIMIT]
        middle = sorted(s.evidence_id for s in every)[len(every) // 2]
        before = photo_index.similar_photos(query, w.client.id, 8, before_id=middle, limit=1000)
        assert before == [s for s in every if s.evidence_id < middle]
        assert photo_index.similar_photos(query, w.client.id, 8, limit=4) == every[:4]


def test_blank_pictures_are_neither_indexed_nor_looked_up(app, w, stored):
    with app.app_context():
        assert photo_index.similar_photos(BLANK, w.client.id, 9) == []
        near_blank = photo_index.similar_photos("0000000000000003", w.client.id, 9)
        assert all(s.evidence_id != stored.rows[-1][0] for s in near_blank)
        visit = stored.visits[0]
        row = Evidence(visit_id=visit.id, kind="photo", client_upload_id="blank",
                       sha256="b" * 64, dhash=BLANK, content_type="image/jpeg",
                       size_bytes=1, stored_name="b.jpg")  # fmt: skip
        db.session.add(row)
        db.session.flush()
        photo_index.index_photo(row, w.client.id)
        db.session.flush()
        assert not db.session.scalars(
            select(PhotoHashBand).where(PhotoHashBand.evidence_id == row.id)
        ).all()


def test_index_photo_stores_the_four_bands_highest_bits_first(app, w):
    visit = visit_of(w)
    row = Evidence(visit_id=visit.id, kind="photo", client_upload_id="bands",
                   sha256="c" * 64, dhash="0123456789abcdef", content_type="image/jpeg",
                   size_bytes=1, stored_name="c.jpg")  # fmt: skip
    db.session.add(row)
    db.session.flush()
    photo_index.index_photo(row, w.client.id)
    db.session.flush()
    bands = db.session.execute(
        select(PhotoHashBand.band, PhotoHashBand.value, PhotoHashBand.client_id)
        .where(PhotoHashBand.evidence_id == row.id)
        .order_by(PhotoHashBand.band)
    ).all()
    assert [tuple(b) for b in bands] == [
        (0, 0x0123, w.client.id), (1, 0x4567, w.client.id),
        (2, 0x89AB, w.client.id), (3, 0xCDEF, w.client.id),
    ]  # fmt: skip
    # The whole hash beside the bands, as a signed 64-bit number: the top bit is sign.
    wholes = set(db.session.scalars(select(PhotoHashBand.dhash).where(
        PhotoHashBand.evidence_id == row.id)))  # fmt: skip
    assert wholes == {0x0123456789ABCDEF}
    assert photo_index.signed("fedcba9876543210") == 0xFEDCBA9876543210 - 2**64


def test_a_distance_beyond_the_index_is_refused(app, w):
    with app.app_context(), pytest.raises(ValueError):
        photo_index.similar_photos("0123456789abcdef", w.client.id, 16)


# --- the integrity flag ------------------------------------------------------------------


def near_copy(image: Image.Image) -> Image.Image:
    """What a shopper might upload again: cropped by 4%, brightened, resized."""
    width, height = image.size
    cropped = image.crop((width * 4 // 100, height * 4 // 100, width, height))
    return ImageEnhance.Brightness(cropped).enhance(1.2).resize((500, 330))


def submit_for_checks(visit: Visit) -> VisitSubmission:
    walk_to(visit, SUBMITTED)
    submission = VisitSubmission(
        visit_id=visit.id, client_submission_id=uuid.uuid4().hex, answers={}, comments={},
        submitted_at=visit.finished_at,
    )  # fmt: skip
    db.session.add(submission)
    db.session.flush()
    return submission


@pytest.fixture
def pair(app, w, tmp_path, monkeypatch):
    """An earlier visit with a photo, a later visit of another shopper with a near copy
    of it (and an unrelated photo), and another client's visit with the original too;
    the later visit's integrity checks run."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    original = scene(12)
    with app.test_request_context():
        store = evidence_service.store_upload
        earlier, foreign, later = visit_of(w), visit_of(w, w.other_wave), visit_of(w, shopper=w.bob)
        theirs = store(earlier, None, pics.encode(original, "JPEG", quality=92), "a.jpg", "u1",
                       "photo", "shelf")  # fmt: skip
        elsewhere = store(foreign, None, pics.encode(original, "JPEG", quality=80), "f.jpg",
                          "u1", "photo")  # fmt: skip
        copy = store(later, None, pics.encode(near_copy(original), "PNG"), "b.png", "u1",
                     "photo", "shelf")  # fmt: skip
        fresh = store(later, None, pics.encode(scene(40), "JPEG"), "c.jpg", "u2", "photo")
        for visit in (earlier, foreign):
            integrity.check_submission(visit, submit_for_checks(visit))
        with count_queries(app) as statements:
            flags = integrity.find_problems(later, submit_for_checks(later))
        integrity.check_submission(later, submit_for_checks(later))
    db.session.commit()
    return SimpleNamespace(
        earlier=earlier, later=later, theirs=theirs, copy=copy, fresh=fresh,
        elsewhere=elsewhere, flags=flags, statements=statements,
    )  # fmt: skip


def test_a_near_copy_of_an_earlier_photo_is_flagged_as_similar(pair):
    bits = bits_apart(pair.copy.dhash, pair.theirs.dhash)
    assert 1 <= bits <= photo_index.SIMILAR_DISTANCE  # a near copy, not the same picture
    assert pair.copy.sha256 != pair.theirs.sha256
    assert pair.flags["duplicate_photo"] == {
        "photos": [
            {"evidence_id": pair.copy.id, "kind": "photo", "match": "similar",
             "distance": bits, "nearest_evidence_id": pair.theirs.id,
             "nearest_visit_id": pair.earlier.id,
             "other_visit_ids": [pair.earlier.id], "other_evidence_ids": [pair.theirs.id]},
        ]
    }  # fmt: skip
    # The other client's copy of the original is as near, but not the same client's.
    assert bits_apart(pair.copy.dhash, pair.elsewhere.dhash) <= photo_index.SIMILAR_DISTANCE
    assert pair.fresh.id not in {p["evidence_id"] for p in pair.flags["duplicate_photo"]["photos"]}


def test_the_earlier_photo_is_not_flagged_for_the_later_copy(pair):
    # Its exact match with the other client's original stays as it was; the later copy
    # is not held against it.
    flag = db.session.scalars(
        select(VisitFlag).where(
            VisitFlag.visit_id == pair.earlier.id, VisitFlag.code == "duplicate_photo"
        )
    ).one()
    assert [p["match"] for p in flag.detail["photos"]] == ["picture"]
    assert pair.later.id not in flag.detail["photos"][0]["other_visit_ids"]


def test_near_copies_cost_one_query_for_the_whole_visit(pair):
    lookups = [s for s in pair.statements if "photo_hash_band" in s]
    assert len(lookups) == 1


def test_the_distance_follows_the_configuration(app, w, pair, monkeypatch):
    bits = bits_apart(pair.copy.dhash, pair.theirs.dhash)
    monkeypatch.setitem(app.config, "INTEGRITY_SIMILAR_PHOTO_DISTANCE", bits - 1)
    with app.test_request_context():
        flags = integrity.find_problems(pair.later, submit_for_checks(pair.later))
    assert "duplicate_photo" not in flags


# --- the review screen -------------------------------------------------------------------


def test_the_reviewer_sees_both_pictures_and_how_far_apart_they_are(client, pair, w):
    bits = bits_apart(pair.copy.dhash, pair.theirs.dhash)
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, pair.later)
    assert f"looks like a picture of visit #{pair.earlier.id}" in text
    assert f"{bits} of 64 bits differ" in text
    mine = f'src="/evidence/{pair.copy.id}/thumb" alt="Photo #{pair.copy.id} of this visit"'
    theirs = (
        f'src="/evidence/{pair.theirs.id}/thumb" '
        f'alt="Photo #{pair.theirs.id} of visit #{pair.earlier.id}"'
    )
    assert mine in markup and theirs in markup
    assert f'<a href="/review/visits/{pair.earlier.id}">#{pair.earlier.id}</a>' in markup
    for evidence in (pair.copy, pair.theirs):
        response = client.get(f"/evidence/{evidence.id}/thumb")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"


def test_another_clients_picture_is_named_but_not_shown(client, w, pair):
    foreign = visit_of(w, w.other_wave)
    walk_to(foreign, SUBMITTED)
    latest = db.session.scalar(
        select(VisitSubmission.id)
        .where(VisitSubmission.visit_id == pair.later.id)
        .order_by(VisitSubmission.id.desc())
    )
    flag = db.session.scalars(
        select(VisitFlag).where(
            VisitFlag.submission_id == latest, VisitFlag.code == "duplicate_photo"
        )
    ).one()
    item = dict(flag.detail["photos"][0], nearest_evidence_id=777, nearest_visit_id=foreign.id)
    flag.detail = {"photos": [item | {"other_visit_ids": [foreign.id]}]}
    db.session.commit()
    login(client, w.reviewer)
    markup, text = flags_on_screen(client, pair.later)
    assert f"Photo #777 of visit #{foreign.id}" in text
    assert "/evidence/777" not in markup and f"/review/visits/{foreign.id}" not in markup
    assert f'src="/evidence/{pair.copy.id}/thumb"' in markup


@pytest.mark.parametrize("bits", [-1, 16, 64])
def test_a_distance_the_index_cannot_serve_stops_the_app_at_start(monkeypatch, tmp_path, bits):
    # Rather than failing every later submission with a photo.
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda _self: str(tmp_path))
    settings = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with pytest.raises(ValueError, match="INTEGRITY_SIMILAR_PHOTO_DISTANCE must lie in 0..15"):
        create_app({**settings, "INTEGRITY_SIMILAR_PHOTO_DISTANCE": bits})
    site = create_app({**settings, "INTEGRITY_SIMILAR_PHOTO_DISTANCE": "9"})
    assert site.config["INTEGRITY_SIMILAR_PHOTO_DISTANCE"] == 9  # a variable's text: a number


def test_many_photos_at_the_largest_distance_stay_within_the_bind_parameters(app, w, stored):
    # 12 photos x 4 bands x 697 values would pass SQLite's 32,766 bind parameters in one
    # query: they are split, and each photo still gets what a lookup of its own gives.
    queries = {10**9 + n: stored.queries[n % 5][:-1] + "0123456789ab"[n] for n in range(12)}
    with app.app_context():
        found = photo_index.similar_for_each(queries, w.client.id, 15)
        for eid, dhash in queries.items():
            assert found[eid] == photo_index.similar_photos(dhash, w.client.id, 15, before_id=eid)
        assert any(found.values())


def test_many_near_copies_are_all_found_when_read_in_chunks(app, w, monkeypatch):
    # Dark night shots can all lie near each other: their visits are read in chunks.
    monkeypatch.setattr(photo_index, "MAX_BAND_VALUES", 100)
    rng = random.Random(7)
    base = rng.getrandbits(64)
    visits = [visit_of(w) for _ in range(3)]
    ids = store_hashes(visits, w.client.id, [hex64(flip(base, 2, rng)) for _ in range(250)])
    with app.app_context():
        found = photo_index.similar_photos(hex64(base), w.client.id, 6, limit=1000)
    assert sorted(s.evidence_id for s in found) == ids
    assert {s.visit_id for s in found} == {v.id for v in visits}
