"""Benchmark: the answer-level (long) CSV export of a wave of 100,000 approved visits
with 60 answers each (6,000,000 rows).

    .venv/bin/python bench/export_answers.py                  # build, 3 runs, reference
    .venv/bin/python bench/export_answers.py --keep /tmp/xb   # keep the database for reruns
    .venv/bin/python bench/export_answers.py --visits 20000 --runs 5
    .venv/bin/python bench/export_answers.py --smoke          # 1,500 visits, 1 run, seconds

Builds its own data in a temporary SQLite file (migrated like production): a client
with 10 regions and 2,000 stores, a published checklist of 60 questions (6 sections of
10, cycling through every answer type), 300 shoppers, one wave and its approved
visits, each with a stored answer, a question result per question and a section result
per section, written with bulk inserts (executemany through the driver).

Each measured run is a fresh child process that runs the service function the web
route uses (``report_exports.long_export``, rows through ``reports.tabular.csv_chunks``)
writing to a file. Wall time covers the export only (not imports or app start);
memory is the child's peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``, read at its end, beside the size right before the export started).

The reference dumps the same rows with the standard library alone: one ``sqlite3``
query joining the same tables (raw JSON answers, no words, no translation, no
neutralisation) written by ``csv.writer.writerows``: a COPY-like floor. The ratio is
export time / reference time.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPES = ("yes_no", "choice", "multi", "scale", "nps", "number", "text", "photo", "date", "time")
SECTIONS, PER_SECTION = 6, 10
N_STORES, N_SHOPPERS, N_REGIONS = 2000, 300, 10
BUDGET_SECONDS, BUDGET_MB = 60.0, 300.0
TEXTS = [
    "Staff greeted me at the door and offered help.",
    "The queue was long; one till open.",
    "店员很热情，主动介绍了新品。",
    "Shelves tidy, price tags present on every item I checked.",
    "=SUM(A1:A9) typed by a prankster",  # neutralised on the way out
    "-- nothing to add --",
    "Toilets closed for cleaning at 14:00.",
    "收银台排队约五分钟。",
]


# --- the data ------------------------------------------------------------------------------


def question(section: int, index: int) -> dict[str, Any]:
    kind = TYPES[index % len(TYPES)]
    q: dict[str, Any] = {
        "key": f"s{section}_q{index}",
        "text": f"Question {index + 1} of section {section + 1} ({kind})",
        "type": kind,
        "na_allowed": kind in ("yes_no", "choice"),
    }
    if kind in ("choice", "multi"):
        q["options"] = [
            {"value": v, "label": f"Option {v.upper()}", "points": p}
            for v, p in (("a", 2), ("b", 1), ("c", 0), ("d", 0))
        ]
    if kind == "scale":
        q.update(min=1, max=5)
    if kind == "number":
        q.update(min=0, max=600, bands=[{"max": 60, "points": 1}, {"points": 0}])
    return q


def document() -> dict[str, Any]:
    return {
        "title": "Bench: 60-question store visit",
        "language": "en",
        "scoring": {"pass_mark": 80, "decimals": 1,
                    "bands": [{"min": 90, "label": "Excellent"}, {"min": 0, "label": "Poor"}]},
        "sections": [
            {"key": f"s{s}", "title": f"Section {s + 1}",
             "questions": [question(s, i) for i in range(PER_SECTION)]}
            for s in range(SECTIONS)
        ],
    }  # fmt: skip


def answer_pool(kind: str, rng: random.Random) -> list[tuple[str, float, float, int, Any, Any]]:
    """Variants of one question's stored answer: (JSON value, earned, possible,
    applicable, full credit, nps)."""
    if kind == "yes_no":
        return [('"yes"', 1, 1, 1, 1, None)] * 8 + [
            ('"no"', 0, 1, 1, 0, None),
            ('"na"', 0, 0, 0, None, None),
        ]
    if kind == "choice":
        return [
            ('"a"', 2, 2, 1, 1, None),
            ('"b"', 1, 2, 1, 0, None),
            ('"c"', 0, 2, 1, 0, None),
            ('"na"', 0, 0, 0, None, None),
        ]
    if kind == "multi":
        return [
            ('["a"]', 2, 3, 1, 0, None),
            ('["a", "b"]', 3, 3, 1, 1, None),
            ("[]", 0, 3, 1, 0, None),
        ]
    if kind == "scale":
        return [(str(v), (v - 1) / 4, 1, 1, int(v == 5), None) for v in range(1, 6)]
    if kind == "nps":
        return [(str(v), 0, 0, 0, None, v) for v in range(11)]
    if kind == "number":
        return [
            (str(v), int(v <= 60), 1, 1, int(v <= 60), None) for v in (12, 45, 61, 90, 240, 7.5)
        ]
    if kind == "text":
        return [(json.dumps(t, ensure_ascii=False), 0, 0, 0, None, None) for t in TEXTS]
    if kind == "photo":
        return [
            (json.dumps([str(rng.randint(1, 10**6)) for _ in range(n)]), 0, 0, 0, None, None)
            for n in (1, 2, 3)
        ]
    if kind == "date":
        return [(f'"2031-03-{d:02d}"', 0, 0, 0, None, None) for d in range(1, 29)]
    times = [f'"{h:02d}:{m:02d}"' for h in range(9, 21) for m in (0, 15, 30, 45)]
    return [(t, 0, 0, 0, None, None) for t in times]


def build(db_path: Path, n_visits: int, seed: int) -> None:
    """The database at ``db_path``: schema by the migrations, rows by bulk inserts."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from auditapp import create_app
    from auditapp.extensions import db
    from auditapp.models import Store
    from auditapp.models.waves import Wave
    from auditapp.services.checklists import versions as checklists
    from auditapp.services.org import records as org
    from bench.bulk_visits import insert_approved

    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        client = org.save_client(None, {"code": "BENCH", "name": "Bench Mart"})
        top = org.save_region(None, client, {"code": "ALL", "name": "China", "kind": "region"})
        regions = [
            org.save_region(None, client, {"code": f"R{i}", "name": f"Region {i}",
                                           "kind": "area", "parent": top})
            for i in range(N_REGIONS)
        ]  # fmt: skip
        db.session.flush()
        hours = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        db.session.execute(insert(Store), [
            {"client_id": client.id, "region_id": regions[i % N_REGIONS].id, "code": f"S{i:05d}",
             "name": f"Bench store {i}", "opening_hours": hours, "target_age_bands": []}
            for i in range(N_STORES)
        ])  # fmt: skip
        store_ids = list(db.session.scalars(text("SELECT id FROM store ORDER BY id")))
        shoppers = [
            org.save_shopper(None, {"email": f"shopper{i}@bench.example", "name": f"Shopper {i}"})
            for i in range(N_SHOPPERS)
        ]
        checklist = checklists.create_checklist(client, "", None, document())
        db.session.flush()
        version = checklists.publish(checklist.versions[0], None)
        wave = Wave(client=client, checklist_version=version, name="Bench wave", status="closed",
                    starts_on=date(2031, 3, 1), ends_on=date(2031, 3, 31))  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        db.session.execute(
            text("INSERT INTO wave_store (wave_id, store_id) SELECT :w, id FROM store"),
            {"w": wave.id},
        )
        questions = [(q.id, q.type) for q in version.questions()]
        sections = [s.key for s in version.sections]
        shopper_ids = [s.id for s in shoppers]
        wave_id, version_id = wave.id, version.id
        assert len(questions) == SECTIONS * PER_SECTION
        db.session.commit()

        # The overlap guard is a trigger on SQLite; generated windows never overlap per
        # shopper, and checking 100,000 inserts against it only slows the build.
        connection = db.session.connection()
        for name in ("visit_shopper_overlap_insert", "visit_shopper_overlap_update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        base = datetime(2031, 3, 1, 1, 0, tzinfo=UTC)
        visits = []
        for i in range(n_visits):
            start = base + timedelta(hours=2 * (i // N_SHOPPERS))
            score = Fraction(rng.randint(200, 400), 4)
            visits.append({
                "id": i + 1, "wave_id": wave_id, "store_id": store_ids[i % N_STORES],
                "checklist_version_id": version_id, "slot": "midday", "window_start": start,
                "window_end": start + timedelta(hours=1), "shopper_id": shopper_ids[i % N_SHOPPERS],
                "status": "approved", "started_at": start + timedelta(minutes=5),
                "finished_at": start + timedelta(minutes=40),
                "score": Decimal(score.numerator) / score.denominator,
                "score_exact": f"{score.numerator}/{score.denominator}",
                "result": "PASS" if score >= 80 else "FAIL",
                "grade": "Excellent" if score >= 90 else "Poor", "integrity_score": 100,
                "approved_at": start + timedelta(days=1),
            })  # fmt: skip
        insert_approved(visits)
        del visits
        visit_ids = list(db.session.scalars(text("SELECT id FROM visit ORDER BY id")))
        pools = [answer_pool(kind, rng) for _qid, kind in questions]
        stamp = "2031-03-02 10:00:00.000000"
        sql_answer = (
            "INSERT INTO visit_answer (visit_id, question_id, value, updated_at) "
            "VALUES (?, ?, ?, ?)"
        )
        sql_result = (
            "INSERT INTO visit_question_result (visit_id, question_id, earned, possible, "
            "applicable, full_credit, critical_failed, nps) VALUES (?, ?, ?, ?, ?, ?, 0, ?)"
        )
        sql_section = (
            "INSERT INTO visit_section_result (visit_id, section_key, earned, possible, "
            "score_exact, score, applicable, passed) VALUES (?, ?, 5, 10, '50/1', 50, 1, 0)"
        )
        step = 2000
        for at in range(0, len(visit_ids), step):
            answers, results = [], []
            for visit_id in visit_ids[at : at + step]:
                for (question_id, _kind), pool in zip(questions, pools, strict=True):
                    value, earned, possible, applicable, full, nps = rng.choice(pool)
                    answers.append((visit_id, question_id, value, stamp))
                    results.append((visit_id, question_id, earned, possible, applicable, full, nps))
            connection.exec_driver_sql(sql_answer, answers)
            connection.exec_driver_sql(sql_result, results)
            connection.exec_driver_sql(
                sql_section, [(v, key) for v in visit_ids[at : at + step] for key in sections]
            )
        db.session.commit()
    print(f"built {n_visits:,} visits x {len(questions)} answers in "
          f"{time.perf_counter() - started:.0f} s -> {db_path} "
          f"({db_path.stat().st_size / 2**20:,.0f} MB)", flush=True)  # fmt: skip


# --- one measured run, in a child process ---------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident set size. VmHWM, as getrusage's ru_maxrss is kept
    across execve, so a child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_export(db_path: Path, out: Path) -> dict[str, float]:
    from auditapp import create_app
    from auditapp.services.reporting import exports as report_exports
    from reports.tabular import csv_chunks

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    with app.app_context():
        from sqlalchemy import select

        from auditapp.extensions import db
        from auditapp.models.waves import Wave

        wave = db.session.scalars(select(Wave)).one()
        before = _peak_mb()
        started = time.perf_counter()
        table = report_exports.long_export(wave, None)
        rows = 0

        def counted():  # type: ignore[no-untyped-def]
            nonlocal rows
            for row in table.rows:
                rows += 1
                yield row

        with out.open("w", encoding="utf-8", newline="") as handle:
            for chunk in csv_chunks(table.header, counted()):
                handle.write(chunk)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb(), "before_mb": before}


def child_reference(db_path: Path, out: Path) -> dict[str, float]:
    import sqlite3

    before = _peak_mb()
    started = time.perf_counter()
    connection = sqlite3.connect(db_path)
    cursor = connection.execute(
        """
        SELECT r.visit_id, s.code, w.name, cs.key, cs.title, q.key, q.text, a.value,
               r.earned, r.possible, r.applicable, r.full_credit, r.critical_failed
        FROM visit_question_result r
        JOIN visit v ON v.id = r.visit_id
        JOIN store s ON s.id = v.store_id
        JOIN wave w ON w.id = v.wave_id
        JOIN checklist_question q ON q.id = r.question_id
        JOIN checklist_section cs ON cs.id = q.section_id
        LEFT JOIN visit_answer a ON a.visit_id = r.visit_id AND a.question_id = r.question_id
        WHERE v.status = 'approved'
        ORDER BY r.visit_id, r.question_id
        """
    )
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([d[0] for d in cursor.description])
        while batch := cursor.fetchmany(10_000):
            writer.writerows(batch)
            rows += len(batch)
    connection.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb(), "before_mb": before}


def run_child(mode: str, db_path: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(db_path), str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Folder to keep (and reuse) the database in.")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DB", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="1,500 visits, 1 run")
    args = parser.parse_args()
    if args.smoke:  # past 1,000 visits: the export reads its rows a page of 1,000 at a time
        args.visits, args.runs = 1500, 1
    if args.child:
        mode, db_path, out = args.child[0], Path(args.child[1]), Path(args.child[2])
        result = (child_export if mode == "export" else child_reference)(db_path, out)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db_path = folder / f"export-bench-{args.visits}.sqlite3"
        if not db_path.exists():
            build(db_path, args.visits, args.seed)
        else:
            print(f"reusing {db_path}")
        out = Path(scratch) / "out.csv"
        runs = []
        for number in range(args.runs):
            runs.append(run_child("export", db_path, out))
            r = runs[-1]
            print(f"export run {number + 1}: {r['seconds']:.1f} s, {r['rows']:,.0f} rows, "
                  f"peak {r['peak_mb']:.0f} MB (before export {r['before_mb']:.0f} MB), "
                  f"file {out.stat().st_size / 2**20:,.0f} MB", flush=True)  # fmt: skip
        references = []
        for number in range(args.runs):
            references.append(run_child("reference", db_path, out))
            r = references[-1]
            print(f"reference run {number + 1}: {r['seconds']:.1f} s, {r['rows']:,.0f} rows, "
                  f"peak {r['peak_mb']:.0f} MB, file {out.stat().st_size / 2**20:,.0f} MB",
                  flush=True)  # fmt: skip
    expected = args.visits * SECTIONS * PER_SECTION
    assert all(r["rows"] == expected for r in runs + references), "row count differs"
    seconds = statistics.median(r["seconds"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    reference = statistics.median(r["seconds"] for r in references)
    print()
    print(f"answer-level CSV, {args.visits:,} visits x {SECTIONS * PER_SECTION} = "
          f"{expected:,} rows (median of {args.runs})")  # fmt: skip
    print(
        f"  export    {seconds:6.1f} s  {expected / seconds:>10,.0f} rows/s  peak RSS {peak:.0f} MB"
    )
    print(f"  reference {reference:6.1f} s  {expected / reference:>10,.0f} rows/s  "
          f"peak RSS {max(r['peak_mb'] for r in references):.0f} MB")  # fmt: skip
    print(f"  ratio export / reference: {seconds / reference:.2f}")
    if args.smoke:  # the budget is for the full wave
        return
    print(f"  budget {BUDGET_SECONDS:.0f} s / {BUDGET_MB:.0f} MB: "
          f"time {'OK' if seconds <= BUDGET_SECONDS else 'OVER'} ({seconds / BUDGET_SECONDS:.2f}), "
          f"memory {'OK' if peak <= BUDGET_MB else 'OVER'} ({peak / BUDGET_MB:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
