"""Evidence a shopper uploads for a visit: photos, receipts and, where the wave allows
it, audio.

Rules decided here:
- The file's real type comes from its bytes, never its name. Photos and receipts may
  be JPEG, PNG, WebP, HEIC/HEIF or AVIF (where Pillow reads it); they are stored as
  an upright JPEG with every bit of metadata removed, and a thumbnail. A picture with
  more pixels than media.MAX_PIXELS is refused from its header, before decoding.
  What the EXIF said (capture time, GPS) is kept on the row for the reviewer, not in
  the file anyone can download.
- `sha256`, `content_type` and `size_bytes` describe the ORIGINAL upload, so a photo
  reused on another visit is found by its hash whatever the re-encoding did; `dhash`
  (photos and receipts; None for audio) is the difference hash of the upright
  picture, which also finds a copy that was re-saved or resized before uploading
  (services/visits/integrity.py compares both). Its four 16-bit bands go into the
  client's photo index (services/visits/photo_index.py), which finds near copies too.
- An upload is idempotent per visit and browser-generated `client_upload_id`: a retry
  (lost connection, double tap) returns the row the first attempt made.
- Uploads are only taken while the visit is the shopper's work in hand (accepted, in
  progress, returned for changes). A refused upload changes nothing else: the
  visit's draft and answers live elsewhere and are never touched here.
- Files are written atomically (temp file, then rename) before the row is added; the
  caller commits. Nothing may be written before ``store_upload`` in the same
  transaction: it ends the reading transaction before decoding a photo.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import media
from ...db_setup import end_reading
from ...errors import DomainError
from ...extensions import db
from ...models import EVIDENCE_KINDS, ChecklistQuestion, Evidence, User
from ...models.waves import ACCEPTED, IN_PROGRESS, RETURNED, Visit
from ...stored_files import (
    clean_name,
    discard_on_rollback,
    remove_files,
    write_atomically,
    write_photo,
)
from . import photo_index

UPLOAD_STATUSES = (ACCEPTED, IN_PROGRESS, RETURNED)
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class EvidenceRejected(DomainError):
    """The upload was refused; the message tells the shopper why and what to do."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def max_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def store_upload(
    visit: Visit,
    user: User | None,
    data: bytes,
    filename: str | None,
    client_upload_id: str,
    kind: str,
    question_key: str | None = None,
) -> Evidence:
    """Checks, processes and stores one uploaded file; returns its Evidence row (the
    existing one when this client_upload_id was already stored for the visit)."""
    client_upload_id = (client_upload_id or "").strip()
    if not CLIENT_ID_PATTERN.match(client_upload_id):
        raise EvidenceRejected(_("The upload is missing its id. Reload the page and try again."))
    digest = hashlib.sha256(data).hexdigest()
    existing = find_upload(visit, client_upload_id)
    if existing is not None:
        return _same_file(existing, digest)
    if visit.status not in UPLOAD_STATUSES:
        raise EvidenceRejected(_("Files can no longer be added to this visit."), 409)
    question_key = (question_key or "").strip() or None
    _check_kind(visit, kind, question_key)
    _check_size(data)

    content_type = _content_type(data, kind)
    evidence = Evidence(
        visit_id=visit.id,
        kind=kind,
        question_key=question_key,
        client_upload_id=client_upload_id,
        sha256=digest,
        content_type=content_type,
        original_name=clean_name(filename),
        size_bytes=len(data),
        uploaded_by_id=user.id if user is not None else None,
    )
    image = None
    if kind != "audio":
        # Decoding takes up to seconds: other shoppers' saves go on meanwhile (on
        # SQLite the write lock is taken again only to add the row).
        end_reading()
        image = process_photo(data)
        if visit.status not in UPLOAD_STATUSES:  # read again: submitted meanwhile?
            raise EvidenceRejected(_("Files can no longer be added to this visit."), 409)
        _describe(evidence, visit, image)
    written: list[Path] = []
    try:
        _write_files(evidence, data, image, written)
        with db.session.begin_nested():
            db.session.add(evidence)
    except IntegrityError:
        # The same upload arrived twice at once and the other request stored it first.
        remove_files(written)
        existing = find_upload(visit, client_upload_id)
        if existing is None:
            raise
        return _same_file(existing, digest)
    except BaseException:
        remove_files(written)
        raise
    discard_on_rollback(written)
    photo_index.index_photo(evidence, visit.wave.client_id)
    return evidence


def _content_type(data: bytes, kind: str) -> str:
    """The file's type from its bytes, which must be the kind the question asks for."""
    content_type = media.sniff(data)
    if kind == "audio":
        if content_type not in media.AUDIO_TYPES:
            raise EvidenceRejected(
                _("This file is not an audio recording we can read (M4A, MP3, Ogg, WebM or WAV).")
            )
    elif content_type not in media.IMAGE_TYPES:
        raise EvidenceRejected(not_a_photo_message())
    assert content_type is not None
    return content_type


def _write_files(
    evidence: Evidence, data: bytes, image: media.ProcessedImage | None, written: list[Path]
) -> None:
    """A recording as it came; a photo as processed, with its thumbnail. Each file is
    added to ``written`` as soon as it exists, so a failure can remove it."""
    folder = _folder(evidence.visit_id)
    if image is None:
        name = f"{uuid.uuid4().hex}.{media.AUDIO_EXTENSIONS[evidence.content_type]}"
        evidence.stored_name = name
        written.append(write_atomically(folder / name, data))
        return
    evidence.stored_name, evidence.thumb_name = write_photo(folder, image, written)


def evidence_path(evidence: Evidence, thumb: bool = False) -> Path | None:
    """Where the stored file (or its thumbnail) is; None when there is none."""
    name = evidence.thumb_name if thumb else evidence.stored_name
    if not name:
        return None
    return _folder(evidence.visit_id, create=False) / name


def served_type(evidence: Evidence) -> str:
    """The type of the stored bytes: images are always re-encoded as JPEG."""
    return evidence.content_type if evidence.kind == "audio" else media.JPEG


# --- checks ---------------------------------------------------------------------------


def find_upload(visit: Visit, client_upload_id: str) -> Evidence | None:
    """The file already stored for this visit under the browser's upload id."""
    return db.session.scalars(
        select(Evidence).where(
            Evidence.visit_id == visit.id, Evidence.client_upload_id == client_upload_id
        )
    ).first()


def _same_file(existing: Evidence, digest: str) -> Evidence:
    if existing.sha256 != digest:
        raise EvidenceRejected(
            _("This upload id was already used for another file. Reload the page and try again."),
            409,
        )
    return existing


def _check_kind(visit: Visit, kind: str, question_key: str | None) -> None:
    if kind not in EVIDENCE_KINDS:
        raise EvidenceRejected(_("Choose whether this is a photo, a receipt or a recording."))
    if kind == "audio" and not visit.wave.allow_audio:
        raise EvidenceRejected(_("Audio recordings are not allowed for this visit."), 403)
    if question_key is not None:
        question = db.session.scalars(
            select(ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == visit.checklist_version_id,
                ChecklistQuestion.key == question_key,
                ChecklistQuestion.type == "photo",
            )
        ).first()
        if question is None:
            raise EvidenceRejected(_("This visit's form has no photo question with that name."))


def _check_size(data: bytes) -> None:
    if not data:
        raise EvidenceRejected(_("The file is empty. Choose it again and retry."))
    if len(data) > max_bytes():
        raise EvidenceRejected(too_large_message(), 413)


def too_large_message() -> str:
    return _(
        "This file is too large: the limit is %(mb)s MB. "
        "Take the photo again at a lower resolution or choose a smaller file.",
        mb=_megabytes(max_bytes()),
    )


def _megabytes(limit: int) -> str:
    value = limit / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def not_a_photo_message() -> str:
    return _("This file is not a photo we can read (JPEG, PNG, WebP, HEIC or AVIF).")


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed check_photo, handed on so that it is not checked again."""

    data: bytes
    filename: str | None
    content_type: str  # from its bytes


def check_photo(data: bytes, filename: str | None = None) -> CheckedPhoto:
    """A photo's size, type (from its bytes) and pixel count (from its header), with
    nothing decoded. Raises EvidenceRejected."""
    _check_size(data)
    content_type = media.sniff(data)
    if content_type not in media.IMAGE_TYPES:
        raise EvidenceRejected(not_a_photo_message())
    try:
        media.check_header(data)
    except media.UnreadableImage as error:
        raise _refusal(error) from error
    return CheckedPhoto(data, filename, content_type)


def process_photo(data: bytes) -> media.ProcessedImage:
    try:
        return media.process_image(data)
    except media.UnreadableImage as error:
        raise _refusal(error) from error


def _refusal(error: media.UnreadableImage) -> EvidenceRejected:
    if isinstance(error, media.ImageTooLarge):
        return EvidenceRejected(
            _("This photo has too many pixels to process. Choose a smaller photo."), 413
        )
    return EvidenceRejected(
        _("We could not read this photo; the file may be damaged. Please take it again.")
    )


def _describe(evidence: Evidence, visit: Visit, image: media.ProcessedImage) -> None:
    evidence.width, evidence.height = image.width, image.height
    evidence.dhash = image.dhash
    evidence.taken_at = _as_utc(image.taken_at, visit)
    if image.gps is not None:
        evidence.gps_latitude, evidence.gps_longitude = image.gps


def _as_utc(moment: datetime | None, visit: Visit) -> datetime | None:
    """A camera without a recorded offset wrote local time: read it in the store's zone.
    A time that cannot be converted (near the ends of the calendar) is no photo time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        try:
            zone = ZoneInfo(visit.store.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- files ----------------------------------------------------------------------------


def _folder(visit_id: int, create: bool = True) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "evidence" / str(int(visit_id))
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
