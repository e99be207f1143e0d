"""The shoppers' evidence reaches the client's managers only where a photo question is
marked client-visible (permissions.may_see_evidence): not in the store scorecard PDF,
the region report PDF, the batch ZIP of scorecards or any result export a store or
regional manager downloads, and not at /evidence. The agency's copy of the same PDF
keeps the photo, which is what makes the counts below able to fail.

The world is the review tests' (client REVW: North ── N1, North area ── NA1): one
approved visit of NA1 in a published wave, with a recognisable photo (red above blue
once upright, EXIF with GPS, a file name carrying the shopper's name) uploaded through
the real upload for the photo question "shelf"; a PDF's images are decoded and compared
with its stored thumbnail. Once the question is hidden from the
client, once (another checklist, the same otherwise) it is client-visible.
"""

import copy
import io
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image, ImageChops, ImageStat

from auditapp.extensions import db
from auditapp.models import Evidence, utcnow
from auditapp.models.waves import IN_PROGRESS
from auditapp.permissions import may_see_evidence
from auditapp.services.checklists import versions as checklists
from auditapp.services.review import decisions as review
from auditapp.services.visits import evidence as evidence_service
from auditapp.services.visits import form as visit_form
from tests.conftest import csrf_token, login
from tests.web import evidence_images as pics
from tests.web.scorecard_cards import poppler
from tests.web.statuses import new_visit
from tests.web.worlds.review import DOC, GOOD, _context, _wave, build_world

SHAPES = [(shape, fmt) for shape in ("wide", "long") for fmt in ("csv", "xlsx")]
PHOTO_NAME = "ann-shopper-IMG_0042.jpg"  # what a phone might call it: never shown
VISIBLE_DOC = copy.deepcopy(DOC)
VISIBLE_DOC["sections"][0]["questions"][-1]["client_visible"] = True
assert VISIBLE_DOC["sections"][0]["questions"][-1]["key"] == "shelf"


@pytest.fixture(params=[False, True], ids=["agency-only", "client-visible"])
def w(request, app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    w.visible = request.param
    if w.visible:
        checklist = checklists.create_checklist(w.client, "", None, VISIBLE_DOC)
        db.session.flush()
        version = checklists.publish(checklist.versions[0], None)
        w.wave = _wave(w.client, version, "Visible wave", [w.store_north, w.store_area])
    w.store = w.store_area
    w.store_manager = make_user("sm.evidence@example.com", "store_manager", client=w.client,
                                stores=[w.store], can_export=True)  # fmt: skip
    w.rm_north = make_user("rm.evidence@example.com", "regional_manager", client=w.client,
                           regions=[w.north], can_export=True)  # fmt: skip
    w.rm_south = make_user("rm.south.evidence@example.com", "regional_manager",
                           client=w.client, regions=[w.south], can_export=True)  # fmt: skip
    db.session.commit()
    w.visit, w.photo = photographed_visit(w)
    w.wave.published_at = utcnow()
    db.session.commit()
    with app.app_context():
        path = evidence_service.evidence_path(w.photo, thumb=True)
        assert path is not None
        w.thumb = path.read_bytes()
        w.stored = path.with_name(w.photo.stored_name).read_bytes()
    return w


def photographed_visit(w: Any) -> tuple[Any, Evidence]:
    """An approved visit of the store whose photo question has a photo."""
    start = utcnow().replace(minute=0, second=0, microsecond=0)
    visit = new_visit(
        IN_PROGRESS, w.ann.id, wave=w.wave, store=w.store,
        checklist_version_id=w.wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1), started_at=start,
    )  # fmt: skip
    with _context(w):
        photo = evidence_service.store_upload(
            visit, w.ann.user, pics.sideways_jpeg(size=(160, 80)), PHOTO_NAME,
            f"photo-{uuid.uuid4().hex[:8]}", "photo", "shelf",
        )  # fmt: skip
        visit_form.submit(visit, w.ann.user, f"ev-{uuid.uuid4().hex}", GOOD)
        review.approve(visit, w.reviewer)
    db.session.commit()
    assert visit.status == "approved"
    return visit, photo


# --- reading the files back -----------------------------------------------------------


def get(client: Any, url: str) -> Any:
    response = client.get(url, buffered=True)
    assert response.status_code == 200, url
    return response


def pdf_images(pdf: bytes, folder: Path) -> list[Image.Image]:
    """Every image the PDF embeds, decoded (``pdfimages -list`` says how many)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "file.pdf"
    source.write_bytes(pdf)
    listed = poppler("pdfimages", "-list", str(source)).splitlines()[2:]
    poppler("pdfimages", "-png", str(source), str(folder / "image"))
    images = [Image.open(p).convert("RGB") for p in sorted(folder.glob("image-*.png"))]
    assert len(images) == len(listed)
    return images


def same_picture(image: Image.Image, photo: Image.Image) -> bool:
    """The same picture however it was encoded: the same size, and pixels no further
    apart than a JPEG's noise."""
    if image.size != photo.size:
        return False
    return max(ImageStat.Stat(ImageChops.difference(image, photo)).mean) < 8


def photos_in(pdf: bytes, folder: Path, w: Any) -> int:
    """How many of the PDF's images are the visit's photo (its stored thumbnail)."""
    photo = Image.open(io.BytesIO(w.thumb)).convert("RGB")
    return sum(same_picture(image, photo) for image in pdf_images(pdf, folder))


def client_downloads(client: Any, w: Any, member: Any) -> dict[str, bytes]:
    """Every file this client manager can download about the wave: {name: bytes}."""
    login(client, member)
    wave = w.wave.id
    files = {
        "store PDF": get(client, f"/reports/stores/{w.store.id}/scorecard.pdf?wave={wave}").data
    }
    if member is w.rm_north:
        files["region PDF"] = get(client, f"/reports/regions/{w.north.id}/report.pdf").data
        started = client.post(
            f"/reports/regions/{w.north.id}/scorecards",
            data={"csrf_token": csrf_token(client), "wave": str(wave)},
        )
        assert started.status_code == 302
        batch = started.location.rstrip("/").rsplit("/", 1)[-1]
        archive = get(client, f"/reports/batches/{batch}/scorecards.zip").data
        files["batch ZIP"] = archive
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            for name in opened.namelist():
                files[f"batch ZIP: {name}"] = opened.read(name)
    for shape, fmt in SHAPES:
        url = f"/results/export?wave={wave}&shape={shape}&format={fmt}"
        files[f"export {shape} {fmt}"] = get(client, url).data
    return files


# --- the client's files ---------------------------------------------------------------


def test_client_files_carry_the_photo_only_of_a_client_visible_question(
    app: Flask, client: Any, w: Any, tmp_path: Path
) -> None:
    login(client, w.coordinator)
    agency_pdf = get(client, f"/reports/stores/{w.store.id}/scorecard.pdf?wave={w.wave.id}").data
    assert photos_in(agency_pdf, tmp_path / "agency", w) == 1  # the agency's copy has it
    agency_images = len(pdf_images(agency_pdf, tmp_path / "agency-all"))
    secrets = (w.thumb, w.stored, w.photo.sha256.encode(), PHOTO_NAME.encode())

    for member in (w.store_manager, w.rm_north):
        for name, data in client_downloads(app.test_client(), w, member).items():
            where = f"{name} for {member.role}"
            if name == "batch ZIP":
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    for entry in archive.namelist():  # nothing but the scorecard PDFs
                        assert entry.endswith(".pdf"), where
                continue
            if data.startswith(b"%PDF-"):
                images = len(pdf_images(data, tmp_path / uuid.uuid4().hex))
                found = photos_in(data, tmp_path / uuid.uuid4().hex, w)
                ours = name == "store PDF" or name.startswith(f"batch ZIP: {w.store.code} ")
                if not ours:  # the region report, another store's scorecard: no photo
                    assert found == 0, where
                elif w.visible:
                    assert found == 1 and images == agency_images, where
                else:
                    assert found == 0 and images == agency_images - 1, where
            else:  # CSV and XLSX: no picture in them, nor a way to one
                if name.endswith("xlsx"):
                    with zipfile.ZipFile(io.BytesIO(data)) as book:
                        assert not [n for n in book.namelist() if "media" in n], where
                assert b"/evidence/" not in data, where
            for secret in secrets:
                if secret is not w.thumb or not w.visible or not data.startswith(b"%PDF-"):
                    assert secret not in data, where


# --- /evidence --------------------------------------------------------------------------


def test_evidence_route_follows_the_same_rule(client: Any, w: Any) -> None:
    urls = (f"/evidence/{w.photo.id}", f"/evidence/{w.photo.id}/thumb")
    for member in (w.coordinator, w.reviewer, w.admin, w.ann.user):
        login(client, member)
        assert all(client.get(url).status_code == 200 for url in urls), member.role
    for member in (w.store_manager, w.rm_north):
        login(client, member)
        for url in urls:
            response = client.get(url)
            assert response.status_code == (200 if w.visible else 404), (member.role, url)
            if w.visible:
                assert response.data.startswith(b"\xff\xd8")  # the stored JPEG
                image = Image.open(io.BytesIO(response.data))
                assert not image.getexif()  # no EXIF: no GPS, no phone
                assert b"TestPhone" not in response.data
                # Nothing names the shopper: not the phone's file name, not their name.
                headers = str(response.headers).lower()
                assert "ann" not in headers and "img_0042" not in headers
                assert b"Ann" not in response.data and b"IMG_0042" not in response.data
    # Outsiders: a regional manager of another region, another client's agency, another
    # shopper: 404 whether or not the question is client-visible.
    for member in (w.rm_south, w.outsider, w.outsider_coordinator, w.bob.user):
        login(client, member)
        assert all(client.get(url).status_code == 404 for url in urls), member.email


def test_client_visible_photos_stay_hidden_until_the_wave_is_published(client: Any, w: Any):
    w.wave.published_at = None
    db.session.commit()
    login(client, w.store_manager)
    assert client.get(f"/evidence/{w.photo.id}").status_code == 404


def test_a_shopper_may_see_the_files_of_their_own_visits_only(w: Any) -> None:
    # The predicate alone, without the scope a caller's query would add.
    shelf = next(q for q in w.visit.checklist_version.questions() if q.key == "shelf")
    for question in (shelf, None):
        assert may_see_evidence(w.ann.user, w.visit, question)
        assert not may_see_evidence(w.bob.user, w.visit, question)
        assert may_see_evidence(w.reviewer, w.visit, question)
    assert may_see_evidence(w.store_manager, w.visit, shelf) is w.visible
    assert not may_see_evidence(w.store_manager, w.visit, None)
