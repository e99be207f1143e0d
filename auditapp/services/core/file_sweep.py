"""Removing stored files that no row points to.

A photo is written to disk before its row commits (so a row never points at a file
that is not there); a process killed in between, or during the write, leaves a whole
photo without a row, or a ``.part`` temp file. Those show customers' faces and
must not stay. ``sweep`` (``flask --app auditapp storage sweep``, and every
``follow-up tick``) removes, under UPLOAD_FOLDER:

- evidence and follow-up photos (and thumbnails) that no row names;
- temp files (``*.part``, ``*.tmp``) of writes that never finished;
- PDF batch files (``batches/``) older than BATCH_KEEP_DAYS.

Only files older than GRACE are touched: a file younger than that may belong to an
upload whose row is about to commit.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ... import clock
from ...extensions import db
from ...models import Evidence
from ...models.follow_up import FollowUpFile

GRACE = timedelta(hours=1)
BATCH_KEEP_DAYS = 7
TEMP_SUFFIXES = (".part", ".tmp")


@dataclass
class Swept:
    without_rows: list[Path] = field(default_factory=list)
    unfinished: list[Path] = field(default_factory=list)
    old_batches: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.without_rows) + len(self.unfinished) + len(self.old_batches)


def sweep(*, dry_run: bool = False) -> Swept:
    root = Path(current_app.config["UPLOAD_FOLDER"])
    swept = Swept()
    now = clock.utcnow().timestamp()  # file times are compared with the app's clock
    settled = now - GRACE.total_seconds()
    for folder, names in _evidence_folders(root / "evidence"):
        _sort(folder, names, settled, swept)
    _sort(root / "follow-up", _follow_up_names(), settled, swept)
    batches = root / "batches"
    if batches.is_dir():
        expired = now - BATCH_KEEP_DAYS * 86400
        swept.old_batches += [p for p in _files(batches) if p.stat().st_mtime < expired]
    if not dry_run:
        for path in (*swept.without_rows, *swept.unfinished, *swept.old_batches):
            path.unlink(missing_ok=True)
    return swept


def _sort(folder: Path, known: set[str], settled: float, swept: Swept) -> None:
    for path in _files(folder):
        if path.stat().st_mtime >= settled:
            continue
        if path.name.endswith(TEMP_SUFFIXES):
            swept.unfinished.append(path)
        elif path.name not in known:
            swept.without_rows.append(path)


def _evidence_folders(root: Path) -> Iterator[tuple[Path, set[str]]]:
    """Each visit's folder (``evidence/<visit id>``) with the names its rows hold."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name.isdigit():
            rows = db.session.execute(
                select(Evidence.stored_name, Evidence.thumb_name).where(
                    Evidence.visit_id == int(folder.name)
                )
            ).all()
            yield folder, _names(rows)


def _follow_up_names() -> set[str]:
    return _names(db.session.execute(select(FollowUpFile.stored_name, FollowUpFile.thumb_name)))


def _names(rows: Iterable[tuple[str, str | None]]) -> set[str]:
    return {name for row in rows for name in row if name}


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir() if path.is_file()]
