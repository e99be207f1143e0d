"""Benchmark: PDF store scorecards, one at a time and as a 500-store batch ZIP built by
two workers.

    .venv/bin/python bench/scorecard_pdf.py                    # demo data, both parts
    .venv/bin/python bench/scorecard_pdf.py --keep /tmp/sb     # keep the database
    .venv/bin/python bench/scorecard_pdf.py --stores 500 --rounds 3

Data: the demo (``flask db upgrade`` and ``flask demo`` into a temporary SQLite file
and uploads folder): its first wave has 30-odd stores with 1-4 approved visits of a
27-question checklist each, comments and photo thumbnails.

**Single**: in a child process, every store of the wave with approved visits, in
Chinese, ``--rounds`` times: the data (``scorecards.store_scorecard``) and the PDF
(``scorecards.store_scorecard_pdf``) timed apart; median, 90th percentile and max.
Budget: median of the whole at most 1 s.

**Batch**: ``--stores`` scorecards (the wave's stores over and over, each under its
own name in the ZIP) split in two parts like ``start_region_batch`` does, each part
run by ``build_batch_part`` in its own child process at the same time, as two RQ
workers would; the second to finish joins the ZIP. Wall time from start to the
finished ZIP, each worker's CPU seconds (which other work on the machine disturbs
far less than wall time) and peak resident set size (``ru_maxrss``), and the load
average before and after. Budget: 4 minutes, 400 MB a worker.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLASK = str(Path(sys.executable).with_name("flask"))
BUDGET_SINGLE_S, BUDGET_BATCH_S, BUDGET_MB = 1.0, 240.0, 400.0
WAVE_ID = 1  # the demo's first wave, the one with approved visits


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AUDITAPP_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "AUDITAPP_UPLOAD_FOLDER": str(folder / "uploads"),
        "AUDITAPP_BATCH_FOLDER": str(folder / "batches"),
        "AUDITAPP_JOBS_MODE": "inline",
    }


def build(folder: Path) -> None:
    if (folder / "bench.sqlite3").exists():
        return
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run(
            [FLASK, "--app", "auditapp", *command], cwd=ROOT, env=_env(folder), check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip


def _child(folder: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args, "--keep", str(folder)],
        cwd=ROOT, env=_env(folder), check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- in the child processes --------------------------------------------------------------


def _app_objects() -> tuple[Any, Any, Any, list[Any]]:
    from sqlalchemy import select

    from auditapp import create_app
    from auditapp.extensions import db
    from auditapp.models import ADMIN, Store, User
    from auditapp.models.waves import APPROVED, Visit, Wave

    app = create_app()
    ctx = app.app_context()
    ctx.push()
    wave = db.session.get(Wave, WAVE_ID)
    admin = db.session.scalars(select(User).where(User.role == ADMIN)).first()
    visited = select(Visit.store_id).where(Visit.wave_id == WAVE_ID, Visit.status == APPROVED)
    stores = list(
        db.session.scalars(select(Store).where(Store.id.in_(visited)).order_by(Store.code))
    )
    return app, wave, admin, stores


def child_single(rounds: int) -> dict[str, Any]:
    from auditapp.services.scorecards import pdfs as scorecards

    _app, wave, admin, stores = _app_objects()
    scorecards.store_scorecard_pdf(
        scorecards.store_scorecard(stores[0], wave, admin, "zh_Hans"), "zh_Hans"
    )
    data_s, pdf_s, total_s, sizes = [], [], [], []
    for _ in range(rounds):
        for store in stores:
            start = time.perf_counter()
            card = scorecards.store_scorecard(store, wave, admin, "zh_Hans")
            middle = time.perf_counter()
            pdf = scorecards.store_scorecard_pdf(card, "zh_Hans", wave.checklist_version.decimals)
            end = time.perf_counter()
            data_s.append(middle - start)
            pdf_s.append(end - middle)
            total_s.append(end - start)
            sizes.append(len(pdf))
    return {
        "stores": len(stores),
        "runs": len(total_s),
        "data": _summary(data_s),
        "pdf": _summary(pdf_s),
        "total": _summary(total_s),
        "kb": round(statistics.median(sizes) / 1024),
        "peak_mb": _peak_mb(),
    }


def child_part(batch_id: str, part: int, count: int, parts: int) -> dict[str, Any]:
    from auditapp.services.scorecards import pdfs as scorecards

    _app, wave, admin, stores = _app_objects()
    ids = [stores[i % len(stores)].id for i in range(count)]
    size = -(-count // parts)
    mine = ids[part * size : (part + 1) * size]
    names = iter(range(part * size, count))
    original = scorecards._zip_name
    # The demo has 30-odd stores; each repeat goes into the ZIP under its own name.
    scorecards._zip_name = lambda store: f"{next(names):04d} {original(store)}"  # type: ignore[assignment]
    baseline = _peak_mb()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    scorecards.build_batch_part(batch_id, part, mine, wave.id, admin.id, "zh_Hans")
    used = resource.getrusage(resource.RUSAGE_SELF)
    return {"part": part, "stores": len(mine), "seconds": round(time.perf_counter() - start, 1),
            "cpu_s": round(used.ru_utime + used.ru_stime - cpu_before, 1),
            "peak_mb": _peak_mb(), "before_mb": baseline}  # fmt: skip


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "max": round(ordered[-1], 3),
    }


def _load() -> str:
    """The machine's 1, 5 and 15-minute load averages: the figures mean little on a
    machine that other work keeps busy."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- the parent ----------------------------------------------------------------------------


def run_batch(folder: Path, count: int) -> dict[str, Any]:
    batches = folder / "batches"
    batches.mkdir(exist_ok=True)
    batch_id = os.urandom(16).hex()
    meta = {"status": "queued", "done": 0, "total": count, "error": None, "parts": 2,
            "wave_id": WAVE_ID, "language": "zh_Hans"}  # fmt: skip
    (batches / f"{batch_id}.json").write_text(json.dumps(meta))
    start = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "part",
                batch_id,
                str(k),
                str(count),
                "2",
                "--keep",
                str(folder),
            ],
            cwd=ROOT,
            env=_env(folder),
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for k in range(2)
    ]
    results = []
    for worker in workers:
        out, _err = worker.communicate()
        assert worker.returncode == 0, "a worker failed"
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = time.perf_counter() - start
    path = batches / f"{batch_id}.zip"
    with zipfile.ZipFile(path) as archive:
        entries = len(archive.namelist())
    final = json.loads((batches / f"{batch_id}.json").read_text())
    megabytes = round(path.stat().st_size / 2**20, 1)
    return {"seconds": round(seconds, 1), "entries": entries, "zip_mb": megabytes,
            "status": final["status"], "workers": results}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", help="folder for the database (kept for reruns)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the stores")
    parser.add_argument("--stores", type=int, default=500, help="scorecards in the batch")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "single":
            print(json.dumps(child_single(int(rest[0]))))
        else:
            print(json.dumps(child_part(rest[0], int(rest[1]), int(rest[2]), int(rest[3]))))
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="scorecard-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"data in {folder}")
    build(folder)
    print(f"load average before: {_load()}")
    single = _child(folder, "single", str(args.rounds))
    print(
        f"single scorecard ({single['stores']} stores x {args.rounds}, zh_Hans, {single['kb']} KB):"
    )
    for key in ("data", "pdf", "total"):
        figures = single[key]
        print(
            f"  {key:<5} median {figures['median']:.3f} s  p90 {figures['p90']:.3f}"
            f"  max {figures['max']:.3f}"
        )
    ok = single["total"]["median"] <= BUDGET_SINGLE_S
    verdict = "ok" if ok else "OVER"
    print(f"  peak {single['peak_mb']} MB; budget median <= {BUDGET_SINGLE_S} s: {verdict}")
    if args.skip_batch:
        return
    print(f"load average before the batch: {_load()}")
    batch = run_batch(folder, args.stores)
    print(f"load average after the batch: {_load()} (the workers' own 2 included)")
    peak = max(w["peak_mb"] for w in batch["workers"])
    print(f"batch of {batch['entries']} scorecards, 2 workers: {batch['seconds']} s, "
          f"ZIP {batch['zip_mb']} MB, status {batch['status']}")  # fmt: skip
    for w in batch["workers"]:
        print(
            f"  part {w['part']}: {w['stores']} stores in {w['seconds']} s ({w['cpu_s']} s CPU),"
            f" peak {w['peak_mb']} MB (after start {w['before_mb']} MB)"
        )
    ok = batch["seconds"] <= BUDGET_BATCH_S and peak <= BUDGET_MB
    verdict = "ok" if ok else "OVER"
    print(f"  budget <= {BUDGET_BATCH_S:.0f} s and <= {BUDGET_MB:.0f} MB a worker: {verdict}")


if __name__ == "__main__":
    main()
