"""Photos a store attaches to a corrective action (evidence of the fix) or an appeal
(evidence for the dispute).

Rules decided here:

- The same checks and processing as a shopper's evidence (services/visits/evidence.py): the
  type comes from the bytes (JPEG, PNG, WebP, HEIC/HEIF, AVIF), the size is limited,
  the picture is stored upright as a JPEG without any metadata, beside a thumbnail.
- At most MAX_FILES photos per action or appeal. The photos of one form are all
  checked from their bytes and headers (`check_photos`) before any is decoded, then
  decoded one at a time, each let go before the next: five pictures too large to
  decode cost no decoding, and a worker holds one full-size picture at most. What
  `check_photos` passed is handed to `store_photo` as it is, never checked twice.
- Files are written atomically before the row is added; the caller commits. A refused
  file raises EvidenceRejected and stores nothing.
"""

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

from flask import Response, abort, current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select

from ... import media
from ...extensions import db
from ...models import FollowUpFile, User
from ...stored_files import clean_name, discard_on_rollback, remove_files, write_photo
from ..visits import CheckedPhoto, EvidenceRejected, check_photo, process_photo

MAX_FILES = 5


def check_photos(photos: Sequence[tuple[bytes, str | None]]) -> list[CheckedPhoto]:
    """Every photo of one form checked without decoding any (size, type, pixels);
    raises EvidenceRejected naming the first refused photo by its number."""
    checked = []
    for number, (data, filename) in enumerate(photos, start=1):
        try:
            checked.append(check_photo(data, filename))
        except EvidenceRejected as error:
            why = _("Photo %(n)d: %(why)s", n=number, why=str(error))
            raise EvidenceRejected(why, error.status_code) from error
    return checked


def store_photo(
    photo: CheckedPhoto,
    user: User | None,
    *,
    action_id: int | None = None,
    appeal_id: int | None = None,
) -> FollowUpFile:
    """Stores one photo that check_photo passed for the action or the appeal (exactly
    one given)."""
    if (action_id is None) == (appeal_id is None):
        raise ValueError("a photo belongs to one action or one appeal")
    owner = (
        FollowUpFile.action_id == action_id if action_id else FollowUpFile.appeal_id == appeal_id
    )
    stored = db.session.scalar(select(func.count()).select_from(FollowUpFile).where(owner)) or 0
    if stored >= MAX_FILES:
        raise EvidenceRejected(_("At most %(n)d photos can be attached.", n=MAX_FILES))
    image = process_photo(photo.data)
    row = FollowUpFile(
        action_id=action_id,
        appeal_id=appeal_id,
        sha256=hashlib.sha256(photo.data).hexdigest(),
        content_type=photo.content_type,
        original_name=clean_name(photo.filename),
        size_bytes=len(photo.data),
        uploaded_by_id=user.id if user is not None else None,
    )
    written: list[Path] = []
    try:
        row.stored_name, row.thumb_name = write_photo(_folder(), image, written)
        db.session.add(row)
        db.session.flush()
    except BaseException:
        remove_files(written)
        raise
    discard_on_rollback(written)
    return row


def photo_path(row: FollowUpFile, thumb: bool = False) -> Path | None:
    """Where the stored photo (or its thumbnail) is; None when there is none."""
    name = row.thumb_name if thumb else row.stored_name
    return None if not name else _folder(create=False) / name


def photo_response(row: FollowUpFile | None, thumb: bool) -> Response:
    """The stored photo (or its thumbnail) as a response, 404 when there is none. Who
    may see a photo can change: the response is private and cached only briefly."""
    path = None if row is None else photo_path(row, thumb=thumb)
    if row is None or path is None or not path.is_file():
        abort(404)
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=media.JPEG,  # stored upright as JPEG, whatever was uploaded
        conditional=True,
        etag=path.name,  # stored names are never reused
        last_modified=row.created_at,
    )
    response.headers["Cache-Control"] = "private, max-age=600"
    response.headers["Content-Disposition"] = "inline"
    return response


def photos(*, action_id: int | None = None, appeal_id: int | None = None) -> list[FollowUpFile]:
    owner = (
        FollowUpFile.action_id == action_id if action_id else FollowUpFile.appeal_id == appeal_id
    )
    return list(db.session.scalars(select(FollowUpFile).where(owner).order_by(FollowUpFile.id)))


def _owner(action_id: int | None, appeal_id: int | None) -> ColumnElement[bool]:
    if action_id is not None:
        return FollowUpFile.action_id == action_id
    return FollowUpFile.appeal_id == appeal_id


def _folder(create: bool = True) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "follow-up"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
