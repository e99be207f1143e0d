"""Files the app keeps for rows of the database (visit evidence, follow-up photos):
written whole or not at all, and removed again when the rows they were written for
are rolled back, so no file outlives a failed request and no row points at half a
file. The one place photos are written: media.py only reads and converts them."""

import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db
from .media import ProcessedImage

NAME_MAX = 255


def clean_name(filename: str | None) -> str:
    """The name as the phone gave it, for the reviewer; never used to store or serve."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:NAME_MAX]


def write_atomically(path: Path, data: bytes) -> Path:
    """Readers see the whole file or none of it, never half a photo."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def write_photo(folder: Path, image: ProcessedImage, written: list[Path]) -> tuple[str, str]:
    """A processed photo and its thumbnail, under new names, in ``folder``; each file
    goes into ``written`` as soon as it exists, so a failure can remove it."""
    name = uuid.uuid4().hex
    stored, thumb = f"{name}.jpg", f"{name}_thumb.jpg"
    written.append(write_atomically(folder / stored, image.image_bytes))
    written.append(write_atomically(folder / thumb, image.thumb_bytes))
    return stored, thumb


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


_WRITTEN = "auditapp_files_written"


def discard_on_rollback(paths: list[Path]) -> None:
    """Files written for rows not committed yet are removed if the transaction rolls
    back instead (the database gone at the commit, a later step refused), so a
    failed request leaves no photo without its row."""
    db.session.info.setdefault(_WRITTEN, []).extend(paths)


@event.listens_for(Session, "after_commit")
def _files_kept(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _files_discarded(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint within it
        remove_files(session.info.pop(_WRITTEN, []))
