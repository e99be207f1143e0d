"""Stored files without rows (a worker killed between writing a photo and committing
its row, or mid-write) are removed by the sweep; photos with rows, files too young to
judge and recent PDF batches stay (services/core/file_sweep.py, `storage sweep`)."""

import os
from datetime import timedelta
from pathlib import Path

from auditapp import clock
from auditapp.models import Evidence
from tests.web import evidence_images as pics
from tests.web.worlds.evidence import _as_shopper, _post, _rows
from tests.web.worlds.evidence import uploads as uploads  # noqa: F401 (fixtures)
from tests.web.worlds.evidence import world as world  # noqa: F401


def _file(path: Path, age: timedelta) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a customer's face")
    moment = (clock.utcnow() - age).timestamp()
    os.utime(path, (moment, moment))
    return path


def _age_everything(folder: Path, age: timedelta) -> None:
    moment = (clock.utcnow() - age).timestamp()
    for path in folder.rglob("*"):
        os.utime(path, (moment, moment))


def test_sweep_removes_files_without_rows_and_unfinished_writes_only(
    runner, client, world, uploads
) -> None:
    _as_shopper(client, world)
    assert _post(client, world.visit, pics.png(), question_key="shelf_photo").status_code == 201
    (kept,) = _rows(world.visit)
    assert isinstance(kept, Evidence)
    _age_everything(uploads, timedelta(hours=2))
    hour_old = timedelta(hours=2)
    visit_folder = uploads / "evidence" / str(world.visit.id)
    orphan = _file(visit_folder / "0123abcd.jpg", hour_old)
    orphan_thumb = _file(visit_folder / "0123abcd_thumb.jpg", hour_old)
    half_written = _file(visit_folder / ".upload-x.part", hour_old)
    just_written = _file(visit_folder / "fedc4321.jpg", timedelta(seconds=30))
    stray_follow_up = _file(uploads / "follow-up" / "99aa.jpg", hour_old)
    old_batch = _file(uploads / "batches" / "b1.zip", timedelta(days=8))
    new_batch = _file(uploads / "batches" / "b2.zip", timedelta(days=1))

    dry = runner.invoke(args=["storage", "sweep", "--dry-run"])
    assert dry.exit_code == 0 and "Files without rows: 3." in dry.output
    assert orphan.exists()

    result = runner.invoke(args=["storage", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Unfinished temp files: 1." in result.output
    assert "Old PDF batch files: 1." in result.output
    gone = (orphan, orphan_thumb, half_written, stray_follow_up, old_batch)
    assert not any(path.exists() for path in gone)
    assert just_written.exists() and new_batch.exists()
    assert (visit_folder / kept.stored_name).exists()
    assert (visit_folder / str(kept.thumb_name)).exists()
