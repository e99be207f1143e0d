"""The batch ZIP of a region's store scorecards: one PDF per store of the region's
subtree in the wave (as the user may see them), built by background jobs that run
inline in tests, with progress that reaches done, and a clear failure.

The cards come from a stand-in for auditapp/services/reporting/rows.py, so these tests
check the batch itself: which stores, how the parts are joined, and the progress."""

import gc
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from auditapp.extensions import db
from auditapp.models import Region, Store, User, utcnow
from auditapp.models.waves import Wave
from auditapp.services.scorecards import pdfs as scorecards
from tests.web.access.my_visits import make_wave
from tests.web.scorecard_cards import pdf_text, store_card, words

frozen: list[int] = []  # objects set aside from the garbage collector, at each card


@pytest.fixture
def cards(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Stands in for scorecards.store_scorecard; records (store, user, language)."""
    calls: list[tuple[str, str, str]] = []
    frozen.clear()

    def store_scorecard(store: Store, wave: Wave, user: User, language: str) -> Any:
        calls.append((store.code, user.email, language))
        frozen.append(gc.get_freeze_count())
        if store.code == "BROKEN":
            raise RuntimeError("no data for this store")
        return store_card(store_code=store.code, store_name=store.name, wave_name=wave.name)

    monkeypatch.setattr(scorecards, "store_scorecard", store_scorecard)
    return calls


@pytest.fixture
def folder(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(app.config, "BATCH_FOLDER", str(tmp_path / "batches"))
    return tmp_path / "batches"


@pytest.fixture
def world(
    app: Flask,
    make_client: Callable[..., Any],
    make_region: Callable[..., Region],
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
) -> SimpleNamespace:
    with app.app_context():
        client = make_client("KING", name="翠鸟咖啡")
        east = make_region(client, "EAST", name="华东区")
        shanghai = make_region(client, "SH", parent=east, name="上海")
        north = make_region(client, "NORTH", name="华北区")
        stores = {
            code: make_store(client, region, code, name=name)
            for code, region, name in (
                ("E01", east, "杭州西湖店"),
                ("S01", shanghai, "上海南京西路店"),
                ("S02", shanghai, "上海淮海路店"),
                ("S09", shanghai, "上海新店"),  # not in the wave
                ("N01", north, "北京王府井店"),
            )
        }
        wave = make_wave(client, [s for code, s in stores.items() if code != "S09"])
        wave.name = "2026年第一季度"
        wave.published_at = utcnow()  # the client's managers read published waves only
        admin = make_user("batch-admin@example.com", "admin", locale="zh_Hans")
        manager = make_user(
            "batch-rm@example.com", "regional_manager", client=client, regions=[shanghai]
        )
        db.session.flush()
        return SimpleNamespace(
            client=client, east=east, shanghai=shanghai, north=north, stores=stores,
            wave=wave, admin=admin, manager=manager,
        )  # fmt: skip


def _start(app: Flask, world: SimpleNamespace, region: Region, user: User) -> str:
    with app.app_context():
        return scorecards.start_region_batch(region, world.wave, user)


def test_the_zip_holds_one_pdf_per_store_of_the_region_subtree_in_the_wave(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    batch_id = _start(app, world, world.east, world.admin)
    with app.app_context():
        progress = scorecards.batch_progress(batch_id)
        path = scorecards.batch_zip(batch_id)
    assert progress is not None and path is not None
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 3, 3)
    assert progress["error"] is None and progress["finished_at"]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == ["E01 杭州西湖店.pdf", "S01 上海南京西路店.pdf", "S02 上海淮海路店.pdf"]
        first = archive.read(names[1])
    assert first.startswith(b"%PDF-") and "上海南京西路店" in words(pdf_text(first, tmp_path))
    # The user's language, and no leftovers of the parts beside the result.
    assert {language for _code, _email, language in cards} == {"zh_Hans"}
    assert sorted(p.name for p in folder.iterdir()) == [f"{batch_id}.json", f"{batch_id}.zip"]


def test_the_work_is_split_into_parts_that_are_joined_in_store_order(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    jobs: list[tuple[Any, ...]] = []
    real = scorecards.enqueue
    monkeypatch.setattr(scorecards, "enqueue", lambda *args: jobs.append(args) or real(*args))
    monkeypatch.setitem(app.config, "BATCH_PARTS", 2)
    batch_id = _start(app, world, world.east, world.admin)
    assert [job[2:4] for job in jobs] == [(0, [world.stores["E01"].id, world.stores["S01"].id]),
                                          (1, [world.stores["S02"].id])]  # fmt: skip
    with app.app_context():
        path = scorecards.batch_zip(batch_id)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        assert [n.split()[0] for n in archive.namelist()] == ["E01", "S01", "S02"]


def test_progress_counts_the_parts_while_they_run(
    app: Flask, world: SimpleNamespace, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs: list[tuple[Any, ...]] = []
    monkeypatch.setattr(scorecards, "enqueue", lambda *args: jobs.append(args))
    batch_id = _start(app, world, world.east, world.admin)
    with app.app_context():
        queued = scorecards.batch_progress(batch_id)
        assert queued is not None
        assert (queued["status"], queued["done"], queued["total"]) == ("queued", 0, 3)
        (folder / f"{batch_id}.part0.json").write_text(
            json.dumps({"status": "running", "done": 1, "total": 2})
        )
        running = scorecards.batch_progress(batch_id)
        assert running is not None and (running["status"], running["done"]) == ("running", 1)
        assert scorecards.batch_zip(batch_id) is None
        assert scorecards.batch_progress("../../etc/passwd") is None
        assert scorecards.batch_zip("0" * 31 + "/") is None


def test_a_regional_manager_gets_only_the_stores_in_their_scope(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path
) -> None:
    batch_id = _start(app, world, world.east, world.manager)
    with app.app_context():
        path = scorecards.batch_zip(batch_id)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        assert [n.split()[0] for n in archive.namelist()] == ["S01", "S02"]
    assert {email for _code, email, _language in cards} == {"batch-rm@example.com"}


def test_a_failing_store_fails_the_batch_with_its_error_and_leaves_no_zip(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path
) -> None:
    with app.app_context():
        world.stores["S01"].code = "BROKEN"
        db.session.flush()
    with pytest.raises(RuntimeError, match="no data"):  # inline jobs raise to the caller
        _start(app, world, world.east, world.admin)
    (batch_id,) = {p.name.split(".")[0] for p in folder.iterdir() if p.suffix == ".json"}
    with app.app_context():
        progress = scorecards.batch_progress(batch_id)
        assert scorecards.batch_zip(batch_id) is None
    assert progress is not None and progress["status"] == "failed"
    assert "no data for this store" in progress["error"]
    assert not list(folder.glob("*.tmp")) and not (folder / f"{batch_id}.zip").exists()


def test_a_region_with_no_stores_in_the_wave_gives_an_empty_zip(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path
) -> None:
    with app.app_context():
        world.wave.stores = [world.stores["N01"]]
        db.session.flush()
    batch_id = _start(app, world, world.shanghai, world.admin)
    with app.app_context():
        progress, path = scorecards.batch_progress(batch_id), scorecards.batch_zip(batch_id)
    assert progress is not None and (progress["status"], progress["total"]) == ("done", 0)
    assert path is not None and zipfile.ZipFile(path).namelist() == []


def test_the_job_sets_the_apps_objects_aside_from_the_collector_only_while_it_runs(
    app: Flask, world: SimpleNamespace, cards: list[tuple[str, str, str]], folder: Path
) -> None:
    _start(app, world, world.east, world.admin)
    assert len(frozen) == 3 and min(frozen) > 10_000
    assert gc.get_freeze_count() == 0
    with app.app_context():
        world.stores["S01"].code = "BROKEN"
        db.session.flush()
    with pytest.raises(RuntimeError, match="no data"):
        _start(app, world, world.east, world.admin)
    assert gc.get_freeze_count() == 0  # a failed job leaves nothing frozen either
