"""Page weight of the shopper's visit form: first load of a 60-question checklist.

    .venv/bin/python bench/form_page_weight.py            # 5 runs
    .venv/bin/python bench/form_page_weight.py --runs 9 --budget-kb 150
    .venv/bin/python bench/form_page_weight.py --smoke    # 1 run, seconds

Builds its own data in a temporary SQLite database (a published 60-question checklist
over six sections using every answer type, with conditions; a shopper; an accepted
visit), serves the app in-process with the Flask test client, signs the shopper in,
fetches the form page and every same-origin stylesheet and script it references, plus
the service worker it registers, gzips each (level 6, what a typical reverse proxy
does) and prints the bytes per resource and the total against the budget.

The first visit to any form also makes the service worker fetch the page once more to
keep it for offline use (later pages are kept as they pass through the worker); that
second copy is printed on its own line and counted in the total. Photos and fonts are
excluded (the app uses system fonts; it has none).
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from auditapp.models import utcnow  # noqa: E402
from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit, Wave  # noqa: E402
from auditapp.services.checklists import versions as checklists  # noqa: E402
from auditapp.services.org import records as org  # noqa: E402

TYPES = ("yes_no", "choice", "multi", "scale", "nps", "number", "text", "photo", "date", "time")
ASSETS = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"')
SW_URL = re.compile(r'data-sw-url="([^"]+)"')


def question(section: int, index: int) -> dict[str, Any]:
    """One question of each type in turn; every fifth asks only after a "yes"."""
    kind = TYPES[index % len(TYPES)]
    key = f"s{section}_q{index}"
    q: dict[str, Any] = {
        "key": key,
        "text": f"Question {index + 1} of section {section + 1}: did the staff member "
        f"do what the standard asks ({kind})?",
        "type": kind,
        "guidance": "Look from the entrance; count only what a customer could see.",
        "required": index % 3 == 0,
    }
    if kind == "choice" or kind == "multi":
        q["options"] = [
            {"value": v, "label": f"Option {v}", "points": p}
            for v, p in (("a", 2), ("b", 1), ("c", 0), ("d", 0))
        ]
    if kind == "scale":
        q.update(min=1, max=5)
    if kind == "number":
        q.update(min=0, max=600, bands=[{"max": 60, "points": 1}, {"points": 0}])
    if index % 5 == 4:
        q["show_if"] = {"question": f"s{section}_q0", "equals": "yes"}
    return q


def document(sections: int = 6, per_section: int = 10) -> dict[str, Any]:
    return {
        "title": "Bench: 60-question store visit",
        "language": "en",
        "sections": [
            {
                "key": f"s{s}",
                "title": f"Section {s + 1}",
                "questions": [question(s, i) for i in range(per_section)],
            }
            for s in range(sections)
        ],
    }


def build(folder: Path) -> tuple[Any, int, int]:
    """(app, shopper's user id, visit id) on a fresh database in ``folder``."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "SECRET_KEY": "bench",
            "EXTRA_HOSTS": "localhost",  # the test client's host
            "UPLOAD_FOLDER": str(folder / "uploads"),
        }
    )
    with app.app_context():
        upgrade()
        client = org.save_client(None, {"code": "BENCH", "name": "Bench Mart"})
        region = org.save_region(None, client, {"code": "R", "name": "Region", "kind": "region"})
        hours = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        store = org.save_store(None, client, region, {
            "code": "B1", "name": "Bench store", "city": "Shanghai", "opening_hours": hours,
            "latitude": Decimal("31.2304"), "longitude": Decimal("121.4737"),
        })  # fmt: skip
        checklist = checklists.create_checklist(client, "", None, document())
        version = checklists.publish(checklist.versions[0], None)
        shopper = org.save_shopper(None, {"email": "bench@example.com", "name": "Bench"})
        today, start = utcnow().date(), utcnow().replace(microsecond=0) + timedelta(hours=2)
        wave = Wave(
            client=client, checklist_version=version, name="Bench wave", status="open",
            starts_on=today, ends_on=today + timedelta(days=30), stores=[store],
        )  # fmt: skip
        visit = Visit(
            wave=wave, store=store, checklist_version=version, slot="midday",
            window_start=start, window_end=start + timedelta(hours=1), status=PLANNED,
            assigned_at=start - timedelta(days=2), accepted_at=start - timedelta(days=1),
        )  # fmt: skip
        db.session.add_all([wave, visit])
        db.session.flush()
        # The database takes a new visit as planned only, then one step at a time.
        for status in (ASSIGNED, ACCEPTED):
            visit.shopper, visit.status = shopper, status
            db.session.flush()
        db.session.commit()
        assert len(checklists.scoring_checklist(version).questions()) == 60
        return app, shopper.user.id, visit.id


def measure(app: Any, user_id: int, visit_id: int) -> list[tuple[str, int, int]]:
    """[(resource, raw bytes, gzip bytes)] of one first load."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    page_url = f"/my/visits/{visit_id}/form"
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    html = page.get_data()
    found = [page_url]
    text = html.decode()
    for url in ASSETS.findall(text) + SW_URL.findall(text):
        parts = urlsplit(url)
        if not parts.netloc and url not in found:
            found.append(url)
    rows = []
    for url in found:
        if url == page_url:
            body = html
        else:  # a missing file would otherwise be weighed as its error page
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            body = response.get_data()
        rows.append((url, len(body), len(gzip.compress(body, compresslevel=6))))
    # The worker keeps a copy of the page it did not see load (first visit only).
    rows.append((page_url + " (kept by the service worker)", rows[0][1], rows[0][2]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget-kb", type=float, default=150.0)
    parser.add_argument(
        "--smoke", action="store_true", help="1 run (the 60-question form is small already)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1
    budget = args.budget_kb * 1024
    with tempfile.TemporaryDirectory() as folder:
        app, user_id, visit_id = build(Path(folder))
        totals, rows = [], []
        for _run in range(args.runs):
            rows = measure(app, user_id, visit_id)
            totals.append(sum(gz for _url, _raw, gz in rows))
    width = max(len(url) for url, _raw, _gz in rows)
    print(f"{'resource':<{width}}  {'raw B':>9}  {'gzip-6 B':>9}")
    for url, raw, gz in rows:
        print(f"{url:<{width}}  {raw:>9,}  {gz:>9,}")
    total = statistics.median(totals)
    print(f"{'total (median of ' + str(args.runs) + ' runs)':<{width}}  "
          f"{sum(r for _u, r, _g in rows):>9,}  {total:>9,.0f}")  # fmt: skip
    print(
        f"budget {budget:,.0f} B ({args.budget_kb:g} KB): {total / budget:.1%} used, "
        f"ratio {total / budget:.3f} -> {'OK' if total <= budget else 'OVER BUDGET'}"
    )
    print(f"runs: min {min(totals):,} B, max {max(totals):,} B")


if __name__ == "__main__":
    main()
