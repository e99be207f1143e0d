"""Benchmark: near-duplicate photo lookups (services/visits/photo_index.py) among 1,000,000
stored photo hashes of one client.

    .venv/bin/python bench/photo_index.py                  # SQLite, 1,000,000 hashes
    .venv/bin/python bench/photo_index.py --smoke          # 10,000 hashes, a few seconds
    .venv/bin/python bench/photo_index.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/scratch --reset-pg   # and PostgreSQL

Builds its own data (seeded): a temporary SQLite file migrated like production (and,
with ``--database-url``, that PostgreSQL database: empty, or pass ``--reset-pg`` to
drop its public schema), one client with a store, a published one-photo checklist, a
wave, 1,000 visits and ``--photos`` evidence rows spread over them, each with a
random 64-bit difference hash and its four bands in ``photo_hash_band``. Among them,
for each of ``--lookups`` query hashes, planted neighbours at every distance from 0
to distance + 2 (so some lie just beyond the limit). Rows go in by ``executemany``
through the driver, 50,000 a transaction; ``ANALYZE`` afterwards (``VACUUM ANALYZE`` on
PostgreSQL, as autovacuum would do after such a load).

It times ``photo_index.similar_photos`` (the query through the band index, the exact
distances, the sort) for every query, ``--runs`` times: the median and p95 of all
lookups, and each run's median. Recall is checked for every lookup against a
brute-force scan of the same hashes in memory (numpy: XOR and popcount over all
stored hashes): the lookup must return exactly the photos the scan finds within the
distance. The reference is that scan's own time per query (median): the ratio printed
is lookup median / scan median. The load average is printed before and after: the
machine is shared, so compare figures taken at a similar load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

from auditapp import create_app  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from auditapp.models.waves import Visit, Wave  # noqa: E402
from auditapp.services.checklists import versions as checklists  # noqa: E402
from auditapp.services.org import records as org  # noqa: E402
from auditapp.services.visits import photo_index  # noqa: E402

VISITS = 1000
CHUNK = 50_000
TARGET_MS = 20.0
DOCUMENT = {
    "title": "Bench: one photo",
    "language": "en",
    "sections": [
        {
            "key": "s",
            "title": "Store",
            "questions": [{"key": "front", "text": "Photo of the front", "type": "photo"}],
        }
    ],
}
BLANKS = (0, (1 << 64) - 1)


# --- the hashes (the same for every database) ---------------------------------------------


def make_hashes(photos: int, lookups: int, most: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(stored hashes, query hashes) as uint64: random hashes, and for each query one
    planted neighbour at each distance 0..most + 2, placed at random positions."""
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 2**64, size=photos, dtype=np.uint64)
    queries = rng.integers(0, 2**64, size=lookups, dtype=np.uint64)
    planted = []
    for query in queries:
        for bits in range(most + 3):
            mask = 0
            for bit in rng.choice(64, size=bits, replace=False):
                mask |= 1 << int(bit)
            planted.append(int(query) ^ mask)
    if len(planted) > photos // 2:
        raise SystemExit("too many lookups for so few photos")
    places = rng.choice(photos, size=len(planted), replace=False)
    stored[places] = np.array(planted, dtype=np.uint64)
    for blank in BLANKS:  # never stored as photos: the app indexes no blank picture
        stored[stored == np.uint64(blank)] = np.uint64(0x0123456789ABCDEF)
    return stored, queries


# --- the database ----------------------------------------------------------------------------


def make_app(url: str, folder: Path) -> Any:
    from flask_migrate import upgrade

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": str(folder)}
    )
    with app.app_context():
        upgrade()
    return app


def build(app: Any, stored: np.ndarray) -> int:
    """Inserts the client, its visits and the photos; returns the client's id."""
    with app.app_context():
        client = org.save_client(None, {"code": "BENCH", "name": "Bench Mart"})
        region = org.save_region(None, client, {"code": "CN", "name": "China", "kind": "region"})
        store = org.save_store(None, client, region, {"code": "S1", "name": "Store 1"})
        checklist = checklists.create_checklist(client, "", None, DOCUMENT)
        version = checklists.publish(checklist.versions[0], None)
        wave = Wave(client=client, checklist_version=version, name="Bench wave",
                    status="closed", starts_on=date(2031, 1, 1), ends_on=date(2033, 12, 31),
                    stores=[store])  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        start = datetime(2031, 1, 1, 2, tzinfo=UTC)
        visits = [
            Visit(
                wave=wave,
                store=store,
                checklist_version_id=version.id,
                slot="midday",
                window_start=start + timedelta(days=n),
                status="planned",
                window_end=start + timedelta(days=n, hours=1),
            )  # fmt: skip
            for n in range(VISITS)
        ]
        db.session.add_all(visits)
        db.session.commit()
        client_id, visit_ids = client.id, [v.id for v in visits]
        dialect = db.engine.dialect.name
        raw = db.engine.raw_connection()
    try:
        _insert_photos(raw, dialect, stored, client_id, visit_ids)
    finally:
        raw.close()
    return client_id


def _insert_photos(
    raw: Any, dialect: str, stored: np.ndarray, client_id: int, visit_ids: list[int]
) -> None:
    mark = "?" if dialect == "sqlite" else "%s"
    evidence_sql = (
        "INSERT INTO evidence (id, visit_id, kind, client_upload_id, sha256, dhash, "
        "content_type, original_name, size_bytes, stored_name, created_at) VALUES "
        f"({', '.join([mark] * 11)})"
    )
    band_sql = (
        "INSERT INTO photo_hash_band (evidence_id, band, client_id, value, dhash) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
    )
    created = datetime(2031, 1, 1, tzinfo=UTC)
    if dialect == "sqlite":
        created_value: Any = created.replace(tzinfo=None).isoformat(sep=" ")
    else:
        created_value = created
    bands = [(stored >> np.uint64(16 * (3 - b))) & np.uint64(0xFFFF) for b in range(4)]
    cursor = raw.cursor()
    for begin in range(0, len(stored), CHUNK):
        if dialect == "sqlite":  # the app runs pysqlite in autocommit, BEGIN by hand
            cursor.execute("BEGIN")
        end = min(begin + CHUNK, len(stored))
        evidence_rows = []
        band_rows = []
        for i in range(begin, end):
            eid = i + 1
            evidence_rows.append(
                (eid, visit_ids[i % len(visit_ids)], "photo", f"p{eid}", f"{eid:064x}",
                 f"{int(stored[i]):016x}", "image/jpeg", "", 1, f"{eid}.jpg", created_value)
            )  # fmt: skip
            whole = int(stored[i].astype(np.int64))  # the signed form the table keeps
            band_rows.extend((eid, b, client_id, int(bands[b][i]), whole) for b in range(4))
        cursor.executemany(evidence_sql, evidence_rows)
        cursor.executemany(band_sql, band_rows)
        raw.commit()
    if dialect == "sqlite":
        cursor.execute("ANALYZE")
        raw.commit()
        return
    # The rows came with their ids: move the sequence past them. VACUUM as autovacuum
    # would after a load this size: it marks the pages all-visible, which lets a
    # lookup read the covering index alone.
    cursor.execute("SELECT setval('evidence_id_seq', %s)", (len(stored),))
    raw.commit()
    raw.driver_connection.autocommit = True
    cursor.execute("VACUUM ANALYZE evidence")
    cursor.execute("VACUUM ANALYZE photo_hash_band")
    raw.driver_connection.autocommit = False


# --- timing and checking ---------------------------------------------------------------------


def popcount(values: np.ndarray) -> np.ndarray:
    return np.bitwise_count(values)


def brute_force(stored: np.ndarray, query: int, most: int) -> set[int]:
    """Ids (position + 1) of the stored hashes within ``most`` bits of ``query``."""
    return set((np.flatnonzero(popcount(stored ^ np.uint64(query)) <= most) + 1).tolist())


def time_lookups(
    app: Any, client_id: int, queries: np.ndarray, most: int, runs: int
) -> tuple[list[list[float]], list[set[int]]]:
    """Seconds per lookup, per run; the ids each lookup found (last run)."""
    texts = [f"{int(q):016x}" for q in queries]
    times: list[list[float]] = []
    found: list[set[int]] = []
    for _ in range(runs):
        run: list[float] = []
        found = []
        with app.app_context():
            photo_index.similar_photos(texts[0], client_id, most)  # warm the connection
            for query in texts:
                started = time.perf_counter()
                result = photo_index.similar_photos(query, client_id, most, limit=1_000_000)
                run.append(time.perf_counter() - started)
                found.append({s.evidence_id for s in result})
            db.session.remove()
        times.append(run)
    return times, found


def time_brute_force(
    stored: np.ndarray, queries: np.ndarray, most: int
) -> tuple[list[float], list[set[int]]]:
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(brute_force(stored, int(query), most))
        times.append(time.perf_counter() - started)
    return times, found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def run(label: str, url: str, folder: Path, stored: np.ndarray, queries: np.ndarray,
        args: argparse.Namespace) -> bool:  # fmt: skip
    print(f"\n== {label} ==")
    started = time.perf_counter()
    app = make_app(url, folder)
    client_id = build(app, stored)
    print(f"loaded {len(stored):,} photos ({4 * len(stored):,} band rows) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times, found = time_lookups(app, client_id, queries, args.distance, args.runs)
    scan_times, truth = time_brute_force(stored, queries, args.distance)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    every = [t for one in times for t in one]
    missed = sum(len(t - f) for t, f in zip(truth, found, strict=True))
    extra = sum(len(f - t) for t, f in zip(truth, found, strict=True))
    relevant = sum(len(t) for t in truth)
    median, scan = statistics.median(every), statistics.median(scan_times)
    print(f"lookups: {len(queries)} x {args.runs} runs, distance {args.distance} "
          f"(radius {args.distance // 4} a band)")  # fmt: skip
    print(
        f"lookup median {1000 * median:.2f} ms, p95 {1000 * p95(every):.2f} ms, "
        f"max {1000 * max(every):.2f} ms; run medians "
        + ", ".join(f"{1000 * statistics.median(r):.2f}" for r in times)
        + " ms"
    )
    print(
        f"brute-force scan (numpy XOR + popcount over {len(stored):,}): "
        f"median {1000 * scan:.2f} ms -> ratio lookup / scan {median / scan:.2f}"
    )
    print(
        f"recall: {relevant - missed}/{relevant} photos within the distance found "
        f"({100 * (relevant - missed) / relevant:.1f}%), {extra} beyond it returned"
    )
    ok = missed == 0 and extra == 0
    if not args.smoke:
        verdict = "meets" if median * 1000 <= TARGET_MS else "MISSES"
        print(f"target: median <= {TARGET_MS:.0f} ms: {verdict} "
              f"(ratio {1000 * median / TARGET_MS:.2f} of the budget)")  # fmt: skip
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--distance", type=int, default=photo_index.SIMILAR_DISTANCE)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--smoke", action="store_true", help="10,000 photos, 50 lookups, 2 runs")
    parser.add_argument("--database-url", help="also run on this PostgreSQL database")
    parser.add_argument(
        "--reset-pg", action="store_true", help="drop the public schema of --database-url first"
    )
    args = parser.parse_args()
    if args.smoke:
        args.photos, args.lookups, args.runs = 10_000, 50, 2
    stored, queries = make_hashes(args.photos, args.lookups, args.distance, args.seed)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite:///{folder}/bench.sqlite3"
        ok &= run("SQLite", sqlite, Path(folder), stored, queries, args)
        if args.database_url:
            engine = create_engine(args.database_url)
            with engine.begin() as conn:
                if args.reset_pg:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                elif inspect(conn).get_table_names():
                    sys.exit("the database is not empty: pass --reset-pg to drop its schema")
            engine.dispose()
            ok &= run("PostgreSQL", args.database_url, Path(folder), stored, queries, args)
    if not ok:
        sys.exit("recall check FAILED")


if __name__ == "__main__":
    main()
