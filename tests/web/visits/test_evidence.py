"""Uploading evidence from the shopper's phone, and who may see it afterwards."""

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from auditapp import media
from auditapp.extensions import db
from auditapp.models import Evidence, VisitAnswer, VisitComment, VisitDraft
from auditapp.models.waves import ACCEPTED, ASSIGNED, IN_PROGRESS, RETURNED, SUBMITTED
from auditapp.services.visits import evidence as evidence_service
from tests.conftest import login
from tests.web import evidence_images as pics
from tests.web.access.my_visits import make_visit
from tests.web.statuses import walk_to
from tests.web.worlds.evidence import _as_shopper, _post, _rows
from tests.web.worlds.evidence import uploads as uploads  # noqa: F401 (a fixture)
from tests.web.worlds.evidence import world as world  # noqa: F401 (a fixture)

NOT_A_PHOTO = "This file is not a photo we can read (JPEG, PNG, WebP, HEIC or AVIF)."


def _visit_in(world, status):
    """Another visit of the shopper's, a day later, walked from assigned to `status`."""
    start = world.visit.window_start + timedelta(days=1)
    visit = walk_to(make_visit(world.wave, world.store, start, shopper=world.shopper), status)
    db.session.commit()
    return visit


def _files(uploads: Path) -> list[str]:
    return sorted(p.name for p in uploads.rglob("*") if p.is_file())


def _path(app, evidence, thumb=False) -> Path:
    with app.app_context():
        return evidence_service.evidence_path(evidence, thumb=thumb)


def _stored(app, evidence, thumb=False) -> bytes:
    return _path(app, evidence, thumb).read_bytes()


# --- the acceptance cases ------------------------------------------------------------


def test_sideways_jpeg_is_stored_upright_without_exif_and_gps_kept_in_the_database(
    app, client, world
):
    original = pics.sideways_jpeg(size=(40, 20))
    response = _post(_as_shopper(client, world), world.visit, original, name="IMG_0001.JPG")

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "url", "thumb_url", "sha256"}
    assert body["sha256"] == hashlib.sha256(original).hexdigest()
    row = db.session.get(Evidence, body["id"])
    assert (row.kind, row.content_type, row.original_name) == (
        "photo",
        "image/jpeg",
        "IMG_0001.JPG",
    )
    assert row.size_bytes == len(original)
    assert (row.width, row.height) == (20, 40)
    assert (row.gps_latitude, row.gps_longitude) == pics.SHANGHAI
    assert row.taken_at == datetime(2025, 3, 4, 2, 15, 30, tzinfo=UTC)
    assert row.uploaded_by_id == world.shopper.user.id

    stored, thumb = _stored(app, row), _stored(app, row, thumb=True)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40)  # upright
        assert not image.getexif()  # no EXIF at all ...
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # ... so no GPS
    assert b"Exif\x00\x00" not in stored
    assert pics.colour_at(stored, (10, 5)) == "red"
    with Image.open(io.BytesIO(thumb)) as image:
        assert max(image.size) <= 320
        assert not image.getexif()
    # The original, with its GPS, is not kept anywhere on disk.
    on_disk = list(Path(app.config["UPLOAD_FOLDER"]).rglob("*"))
    assert {p.name for p in on_disk if p.is_file()} == {row.stored_name, row.thumb_name}
    assert all(p.read_bytes() != original for p in on_disk if p.is_file())
    assert row.stored_name.endswith(".jpg") and row.thumb_name.endswith("_thumb.jpg")
    assert _path(app, row).parent == Path(app.config["UPLOAD_FOLDER"]) / "evidence" / str(
        world.visit.id
    )


def test_photos_and_receipts_get_the_difference_hash_of_the_upright_picture(client, world):
    _as_shopper(client, world)
    sideways = _post(client, world.visit, pics.sideways_jpeg(size=(40, 20)))
    upright = pics.encode(pics.halves((40, 20)).rotate(-90, expand=True), "PNG")
    receipt = _post(client, world.visit, upright, upload_id="u2", kind="receipt")
    photo_row = db.session.get(Evidence, sideways.json["id"])
    receipt_row = db.session.get(Evidence, receipt.json["id"])
    assert (
        photo_row.dhash
        == receipt_row.dhash
        == media.difference_hash(pics.halves((40, 20)).rotate(-90, expand=True))
    )
    assert photo_row.sha256 != receipt_row.sha256


def test_capture_time_without_an_offset_is_read_in_the_store_time_zone(client, world):
    response = _post(_as_shopper(client, world), world.visit, pics.sideways_jpeg(offset=None))
    row = db.session.get(Evidence, response.json["id"])
    # 10:15:30 in Shanghai (UTC+8) is 02:15:30 UTC.
    assert row.taken_at == datetime(2025, 3, 4, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("taken", "timezone"),
    [("0001:01:01 00:00:00", "Asia/Shanghai"), ("9999:12:31 23:59:00", "America/Los_Angeles")],
)
def test_a_camera_clock_at_the_ends_of_the_calendar_counts_as_no_photo_time(
    client, world, taken, timezone
):
    # Read in the store's zone, these times fall outside what a datetime can hold.
    world.store.timezone = timezone
    db.session.commit()
    photo = pics.sideways_jpeg(taken=taken, offset=None)
    response = _post(_as_shopper(client, world), world.visit, photo)
    assert response.status_code == 201, response.json
    row = db.session.get(Evidence, response.json["id"])
    assert row.taken_at is None
    assert (row.gps_latitude, row.gps_longitude) == pics.SHANGHAI


def test_a_local_capture_time_that_cannot_be_converted_counts_as_no_photo_time(world):
    # photo_exif keeps such times out; the conversion must not fail on one either.
    assert evidence_service._as_utc(datetime(1, 1, 1), world.visit) is None
    assert evidence_service._as_utc(datetime(2025, 3, 4, 10, 15, 30), world.visit) == datetime(
        2025, 3, 4, 2, 15, 30, tzinfo=UTC
    )


def test_heic_photo_is_accepted_and_stored_as_jpeg(app, client, world):
    exif = pics.exif_block(orientation=6, gps=pics.SHANGHAI_DMS, taken="2025:03:04 10:15:30")
    original = pics.heic(size=(40, 20), exif=exif)  # raises if this build cannot encode HEIC
    response = _post(_as_shopper(client, world), world.visit, original, name="IMG_0002.HEIC")

    assert response.status_code == 201, response.json
    row = db.session.get(Evidence, response.json["id"])
    assert row.content_type == "image/heic"
    assert (row.width, row.height) == (20, 40)
    assert (row.gps_latitude, row.gps_longitude) == pics.SHANGHAI
    with Image.open(io.BytesIO(_stored(app, row))) as image:
        assert image.format == "JPEG"
        assert not image.getexif()


def test_png_renamed_jpg_is_accepted_as_png_and_stored_as_jpeg(app, client, world):
    original = pics.png(size=(40, 20))
    response = _post(_as_shopper(client, world), world.visit, original, name="receipt.jpg",
                     kind="receipt")  # fmt: skip

    assert response.status_code == 201, response.json
    row = db.session.get(Evidence, response.json["id"])
    assert (row.kind, row.content_type) == ("receipt", "image/png")
    assert (row.width, row.height) == (40, 20)
    assert row.gps_latitude is None and row.taken_at is None
    with Image.open(io.BytesIO(_stored(app, row))) as image:
        assert image.format == "JPEG"


def test_webp_photo_is_accepted(client, world):
    response = _post(_as_shopper(client, world), world.visit, pics.webp(), name="shot.webp")
    assert response.status_code == 201
    assert db.session.get(Evidence, response.json["id"]).content_type == "image/webp"


def test_avif_photo_is_accepted_where_pillow_reads_it(client, world):
    if not media.AVIF_READABLE:
        pytest.skip("the installed Pillow reads no AVIF, so the app does not take it")
    try:
        original = pics.avif(size=(40, 20))
    except (KeyError, OSError) as error:
        pytest.skip(f"the installed Pillow reads AVIF but cannot write it: {error}")
    response = _post(_as_shopper(client, world), world.visit, original, name="shot.avif")
    assert response.status_code == 201, response.json
    row = db.session.get(Evidence, response.json["id"])
    assert (row.content_type, row.width, row.height) == ("image/avif", 40, 20)


def test_a_photo_with_too_many_pixels_is_refused_before_it_is_decoded(client, world, uploads):
    bomb = pics.png_header(7999, 7999)  # a 64 MP RGBA header; a real one is 250 KB
    response = _post(_as_shopper(client, world), world.visit, bomb, name="huge.png")

    assert response.status_code == 413
    assert "too many pixels" in response.json["error"]
    assert _rows(world.visit) == []
    assert _files(uploads) == []


def test_a_truncated_heic_is_refused_not_stored_as_a_scrap(client, world, uploads):
    whole = pics.heic(picture=pics.noise((1024, 768)), tile_size=512)
    response = _post(_as_shopper(client, world), world.visit, whole[: len(whole) * 2 // 3])

    assert response.status_code == 400
    assert "could not read this photo" in response.json["error"]
    assert _rows(world.visit) == []
    assert _files(uploads) == []


def test_text_file_renamed_jpg_is_rejected_with_a_clear_message(client, world, uploads):
    text = b"Dear reviewer, the photo did not work, sorry.\n"
    response = _post(_as_shopper(client, world), world.visit, text, name="photo.jpg")

    assert response.status_code == 400
    assert response.json == {"error": NOT_A_PHOTO}
    assert _rows(world.visit) == []
    assert _files(uploads) == []


def test_damaged_photo_is_rejected_with_a_clear_message(client, world, uploads):
    noisy = pics.encode(Image.effect_noise((300, 300), 80).convert("RGB"), "JPEG", quality=95)
    response = _post(_as_shopper(client, world), world.visit, noisy[: len(noisy) // 2])

    assert response.status_code == 400
    assert "could not read this photo" in response.json["error"]
    assert _rows(world.visit) == []
    assert _files(uploads) == []


def test_oversized_file_is_rejected_and_the_answers_stay(app, client, world, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024 * 1024)  # 1 MB
    big = pics.sideways_jpeg() + b"\x00" * (1024 * 1024)
    _as_shopper(client, world)
    response = _post(client, world.visit, big, name="huge.jpg")

    assert response.status_code == 413
    assert response.json["error"].startswith("This file is too large: the limit is 1 MB.")
    assert _rows(world.visit) == []
    assert _files(uploads) == []
    db.session.expire_all()
    draft = db.session.get(VisitDraft, world.visit.id)
    assert (draft.data, draft.revision) == ({"greeted": "yes", "comment": "Warm"}, 3)
    answers = db.session.scalars(
        select(VisitAnswer.value).where(VisitAnswer.visit_id == world.visit.id)
    ).all()
    assert answers == ["yes"]
    comments = db.session.scalars(
        select(VisitComment.text).where(VisitComment.visit_id == world.visit.id)
    ).all()
    assert comments == ["Friendly staff"]
    # ... and the next, smaller photo still goes through.
    assert _post(client, world.visit, pics.sideways_jpeg(), upload_id="u2").status_code == 201


def test_request_over_the_server_limit_gets_the_same_json_answer(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = _post(_as_shopper(client, world), world.visit, b"\xff\xd8\xff" + b"\x00" * 4096)
    assert response.status_code == 413
    assert response.json["error"].startswith("This file is too large")


# --- retries and integrity -----------------------------------------------------------


def test_retry_with_the_same_upload_id_returns_the_first_file(client, world, uploads):
    _as_shopper(client, world)
    photo = pics.sideways_jpeg()
    first = _post(client, world.visit, photo, upload_id="photo-7f3a")
    again = _post(client, world.visit, photo, upload_id="photo-7f3a")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert len(_rows(world.visit)) == 1
    assert len(_files(uploads)) == 2  # one photo and its thumbnail


def test_two_simultaneous_tries_of_one_upload_store_it_once(app, world, uploads, monkeypatch):
    """The second request looked before the first had stored its row; the database's
    unique (visit, upload id) makes it give the first row back and drop its files."""
    photo = pics.png()
    with app.test_request_context():
        first = evidence_service.store_upload(world.visit, None, photo, "a.png", "race", "photo")
        db.session.commit()  # as the upload view does
        real, calls = evidence_service.find_upload, []

        def late(visit, upload_id):
            calls.append(upload_id)
            return None if len(calls) == 1 else real(visit, upload_id)

        monkeypatch.setattr(evidence_service, "find_upload", late)
        second = evidence_service.store_upload(world.visit, None, photo, "a.png", "race", "photo")
    assert second.id == first.id
    assert len(_rows(world.visit)) == 1
    assert len(_files(uploads)) == 2


def test_reused_upload_id_with_other_bytes_is_refused(client, world):
    _as_shopper(client, world)
    assert _post(client, world.visit, pics.sideways_jpeg(), upload_id="same").status_code == 201
    response = _post(client, world.visit, pics.png(), upload_id="same")
    assert response.status_code == 409
    assert "already used for another file" in response.json["error"]


def test_same_bytes_with_different_upload_ids_make_two_rows_with_the_same_hash(client, world):
    _as_shopper(client, world)
    photo = pics.sideways_jpeg()
    one = _post(client, world.visit, photo, upload_id="a").json
    two = _post(client, world.visit, photo, upload_id="b").json

    assert one["id"] != two["id"]
    assert one["sha256"] == two["sha256"] == hashlib.sha256(photo).hexdigest()
    same_hash = select(func.count()).where(Evidence.sha256 == one["sha256"])
    assert db.session.scalar(same_hash) == 2


def test_upload_needs_an_id_and_a_file(client, world):
    _as_shopper(client, world)
    response = _post(client, world.visit, pics.png(), upload_id="")
    assert response.status_code == 400
    assert "missing its id" in response.json["error"]
    response = _post(client, world.visit, b"", name="")
    assert response.status_code == 400
    assert response.json["error"] == "Choose a photo or file to upload."


def test_upload_without_the_csrf_token_is_refused_in_json(client, world):
    _as_shopper(client, world)
    response = client.post(
        f"/my/visits/{world.visit.id}/evidence",
        data={"file": (io.BytesIO(pics.png()), "a.png"), "client_upload_id": "x", "kind": "photo"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Reload the page" in response.json["error"]
    assert _rows(world.visit) == []


# --- what may be uploaded where --------------------------------------------------------


def test_photo_can_belong_to_a_photo_question_of_the_visit(client, world):
    _as_shopper(client, world)
    response = _post(client, world.visit, pics.png(), question_key="shelf_photo")
    assert response.status_code == 201
    assert db.session.get(Evidence, response.json["id"]).question_key == "shelf_photo"


@pytest.mark.parametrize("key", ["greeted", "no_such_question"])
def test_question_key_must_be_a_photo_question_of_the_visit(client, world, key):
    response = _post(_as_shopper(client, world), world.visit, pics.png(), question_key=key)
    assert response.status_code == 400
    assert "no photo question" in response.json["error"]


def test_unknown_kind_is_refused(client, world):
    response = _post(_as_shopper(client, world), world.visit, pics.png(), kind="video")
    assert response.status_code == 400


M4A = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 200


def test_audio_is_refused_unless_the_wave_allows_it(client, world):
    response = _post(_as_shopper(client, world), world.visit, M4A, name="a.m4a", kind="audio")
    assert response.status_code == 403
    assert response.json["error"] == "Audio recordings are not allowed for this visit."
    assert _rows(world.visit) == []


def test_audio_is_kept_as_recorded_where_the_wave_allows_it(app, client, world):
    world.wave.allow_audio = True
    db.session.commit()
    _as_shopper(client, world)
    response = _post(client, world.visit, M4A, name="visit.m4a", kind="audio")

    assert response.status_code == 201, response.json
    assert response.json["thumb_url"] is None
    row = db.session.get(Evidence, response.json["id"])
    assert (row.content_type, row.width, row.thumb_name) == ("audio/mp4", None, None)
    assert row.dhash is None  # a recording has no picture to hash
    assert _stored(app, row) == M4A
    served = client.get(response.json["url"])
    assert served.status_code == 200
    assert served.mimetype == "audio/mp4"
    assert served.data == M4A
    assert client.get(f"/evidence/{row.id}/thumb").status_code == 404
    # A photo is not a recording.
    refused = _post(client, world.visit, pics.png(), name="x.m4a", upload_id="u9", kind="audio")
    assert refused.status_code == 400
    assert "not an audio recording" in refused.json["error"]


@pytest.mark.parametrize("status", [ACCEPTED, IN_PROGRESS, RETURNED])
def test_uploads_are_taken_while_the_visit_is_in_hand(client, world, status):
    visit = _visit_in(world, status)
    assert _post(_as_shopper(client, world), visit, pics.png()).status_code == 201


@pytest.mark.parametrize("status", [ASSIGNED, SUBMITTED])
def test_uploads_are_refused_before_accepting_and_after_submitting(client, world, status):
    visit = _visit_in(world, status)
    response = _post(_as_shopper(client, world), visit, pics.png())
    assert response.status_code == 409
    assert response.json["error"] == "Files can no longer be added to this visit."


def test_shopper_cannot_upload_to_another_shoppers_visit(client, world):
    login(client, world.other.user)
    response = _post(client, world.visit, pics.png())
    assert response.status_code == 404
    assert _rows(world.visit) == []


# --- seeing the files ------------------------------------------------------------------


def test_files_are_served_privately_with_their_type(client, world):
    _as_shopper(client, world)
    body = _post(client, world.visit, pics.sideways_jpeg()).json

    photo = client.get(body["url"])
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    assert photo.headers["Cache-Control"].startswith("private")
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.size == (20, 40)
    thumb = client.get(body["thumb_url"])
    assert (thumb.status_code, thumb.mimetype) == (200, "image/jpeg")
    assert thumb.headers["Cache-Control"].startswith("private")


def test_agency_staff_of_the_client_see_the_files_and_nobody_else(client, app, world, make_client):
    _as_shopper(client, world)
    url = _post(client, world.visit, pics.png()).json["url"]
    other_client = make_client("Y", name="Client Y")
    make_user = world.make_user
    people = {
        "admin": (make_user("admin@example.com", "admin"), 200),
        "coordinator": (make_user("c.x@example.com", "coordinator", clients=[world.client]), 200),
        "reviewer": (make_user("r.x@example.com", "reviewer", clients=[world.client]), 200),
        "reviewer_y": (make_user("r.y@example.com", "reviewer", clients=[other_client]), 404),
        "coordinator_y": (make_user("c.y@example.com", "coordinator", clients=[other_client]), 404),
        "regional": (
            make_user("rm@example.com", "regional_manager", client=world.client, regions=[]),
            404,
        ),
        "store_manager": (
            make_user("sm@example.com", "store_manager", client=world.client, stores=[world.store]),
            404,
        ),
        "other_shopper": (world.other.user, 404),
    }
    for name, (user, expected) in people.items():
        viewer = login(app.test_client(), user)
        assert viewer.get(url).status_code == expected, name
        assert viewer.get(url + "/thumb").status_code == expected, name
    assert app.test_client().get(url).status_code == 302  # anonymous: sign in first


def test_missing_file_on_disk_is_not_found(app, client, world):
    _as_shopper(client, world)
    body = _post(client, world.visit, pics.png()).json
    _path(app, db.session.get(Evidence, body["id"])).unlink()
    assert client.get(body["url"]).status_code == 404


def test_a_photo_is_decoded_outside_any_transaction(client, world, monkeypatch):
    """On SQLite an upload holds the write lock from its first statement; decoding,
    which takes up to seconds, must not hold up every other shopper's save."""
    real, seen = evidence_service.process_photo, []

    def decode(data):
        seen.append(db.session().in_transaction())
        return real(data)

    monkeypatch.setattr(evidence_service, "process_photo", decode)
    _as_shopper(client, world)
    assert _post(client, world.visit, pics.png(), question_key="shelf_photo").status_code == 201
    assert seen == [False]


def test_a_photo_whose_row_is_rolled_back_leaves_no_file(app, world, uploads):
    """The database gone at the commit: the request rolls back, and the photo and its
    thumbnail written before go with it."""
    with app.test_request_context():
        evidence_service.store_upload(world.visit, None, pics.png(), "a.png", "gone", "photo")
        assert len(_files(uploads)) == 2
        db.session.rollback()
    assert _files(uploads) == []
    with app.test_request_context():
        evidence_service.store_upload(world.visit, None, pics.png(), "a.png", "kept", "photo")
        db.session.commit()
        db.session.rollback()  # nothing left to undo: the committed photo stays
    assert len(_files(uploads)) == 2
