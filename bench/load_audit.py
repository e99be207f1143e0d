"""What bench/load.py finds in the database and the upload folder after the load,
compared with what the app acknowledged to the shoppers.

- submissions and photos: acknowledged but not stored (lost), more than one stored
  per client id or per visit (duplicated), stored but never acknowledged (the answer
  was lost on the way back: harmless when a retry was acknowledged later);
- half-written visits: sent on (submitted or later) without a submission row or
  without answers, a submission row on a visit still being filled, or a draft left on
  a submitted visit (the submit transaction deletes it);
- files in the upload folder that no evidence row names, rows whose file or
  thumbnail is missing, and temporary files of interrupted writes;
- mail: outbox rows not sent (sent_at NULL), with their attempts and last error.

Plain SQL through SQLAlchemy, on either database, while the app is still running.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

SENT_ON = ("submitted", "in_review", "returned", "approved")
BEING_FILLED = ("accepted", "in_progress")


@dataclass
class Audit:
    submissions_acked: int = 0
    submissions_stored: int = 0
    submissions_lost: list[int] = field(default_factory=list)  # visit ids
    submissions_duplicated: list[int] = field(default_factory=list)
    submissions_unacked: int = 0  # stored, never acknowledged
    photos_acked: int = 0
    photos_stored: int = 0
    photos_lost: list[str] = field(default_factory=list)  # "visit/client id"
    photos_duplicated: list[str] = field(default_factory=list)
    photos_unacked: int = 0
    photos_of_abandoned: int = 0  # rows of upload ids no shopper sent in full
    half_written: list[str] = field(default_factory=list)
    files_without_rows: list[str] = field(default_factory=list)
    rows_without_files: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    mail_total: int = 0
    mail_unsent: int = 0
    mail_errors: Counter[str] = field(default_factory=Counter)


def mail_unsent(url: str) -> tuple[int, int]:
    """(outbox rows, rows not sent)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total, sent = conn.execute(
                text("SELECT count(*), count(sent_at) FROM outbox_mail")
            ).one()
    finally:
        engine.dispose()
    return int(total), int(total) - int(sent)


def audit(
    url: str,
    uploads: Path,
    visits: list[int],
    submitted: dict[int, str],
    sent: dict[int, str],
    uploaded: set[tuple[int, str]],
    tried: set[tuple[int, str]],
) -> Audit:
    """``submitted``/``uploaded``: what the app acknowledged; ``sent``/``tried``: every
    id the shoppers sent (in full or not)."""
    result = Audit(submissions_acked=len(submitted), photos_acked=len(uploaded))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = _rows(conn, visits)
    finally:
        engine.dispose()
    _check_submissions(result, rows, submitted, sent)
    _check_photos(result, rows, uploaded, tried)
    _check_visits(result, rows)
    _check_files(result, rows["evidence"], uploads)
    result.mail_total = len(rows["mail"])
    for sent_at, attempts, error in rows["mail"]:
        if sent_at is None:
            result.mail_unsent += 1
            result.mail_errors[f"{attempts} attempts: {(error or 'never tried')[:80]}"] += 1
    return result


def _rows(conn: Any, visits: list[int]) -> dict[str, list[Any]]:
    ids = ",".join(str(int(v)) for v in visits) or "0"
    queries = {
        "visits": f"SELECT id, status FROM visit WHERE id IN ({ids})",
        "submissions": "SELECT visit_id, client_submission_id FROM visit_submission "
        f"WHERE visit_id IN ({ids})",
        "answers": f"SELECT visit_id, count(*) FROM visit_answer WHERE visit_id IN ({ids}) "
        "GROUP BY visit_id",
        "drafts": f"SELECT visit_id FROM visit_draft WHERE visit_id IN ({ids})",
        "evidence": "SELECT id, visit_id, client_upload_id, stored_name, thumb_name FROM evidence",
        "mail": "SELECT sent_at, attempts, last_error FROM outbox_mail",
    }
    return {name: list(conn.execute(text(sql)).all()) for name, sql in queries.items()}


def _check_submissions(
    result: Audit, rows: dict[str, list[Any]], submitted: dict[int, str], sent: dict[int, str]
) -> None:
    stored = {(int(v), str(s)) for v, s in rows["submissions"]}
    per_id = Counter(str(s) for _v, s in rows["submissions"])
    per_visit = Counter(int(v) for v, _s in rows["submissions"])
    result.submissions_stored = len(rows["submissions"])
    result.submissions_lost = sorted(v for v, s in submitted.items() if (v, s) not in stored)
    result.submissions_duplicated = sorted(
        {int(v) for v, s in rows["submissions"] if per_id[str(s)] > 1 or per_visit[int(v)] > 1}
    )
    result.submissions_unacked = sum(
        1 for v, s in stored if submitted.get(v) != s and sent.get(v) == s
    )


def _check_photos(
    result: Audit,
    rows: dict[str, list[Any]],
    uploaded: set[tuple[int, str]],
    tried: set[tuple[int, str]],
) -> None:
    ours = [(int(r[1]), str(r[2])) for r in rows["evidence"]]
    counts = Counter(ours)
    result.photos_stored = len(ours)
    result.photos_lost = sorted(f"{v}/{c}" for v, c in uploaded if counts[(v, c)] == 0)
    result.photos_duplicated = sorted(f"{v}/{c}" for (v, c), n in counts.items() if n > 1)
    result.photos_unacked = sum(1 for key in counts if key not in uploaded and key in tried)
    result.photos_of_abandoned = sum(1 for key in counts if key not in tried)


def _check_visits(result: Audit, rows: dict[str, list[Any]]) -> None:
    submissions = {int(v) for v, _s in rows["submissions"]}
    answers = {int(v): int(n) for v, n in rows["answers"]}
    drafts = {int(v) for (v,) in rows["drafts"]}
    for visit, status in rows["visits"]:
        result.statuses[str(status)] += 1
        visit = int(visit)
        if status in SENT_ON and visit not in submissions:
            result.half_written.append(f"visit {visit} {status} without a submission")
        if status in SENT_ON and not answers.get(visit):
            result.half_written.append(f"visit {visit} {status} without answers")
        if status in BEING_FILLED and visit in submissions:
            result.half_written.append(f"visit {visit} {status} with a submission")
        if status == "submitted" and visit in drafts:
            result.half_written.append(f"visit {visit} submitted with its draft left")


def _check_files(result: Audit, evidence: list[Any], uploads: Path) -> None:
    named: set[Path] = set()
    folder = uploads / "evidence"
    for row_id, visit, _client_id, stored, thumb in evidence:
        for name in (stored, thumb):
            if not name:
                continue
            path = folder / str(int(visit)) / str(name)
            named.add(path)
            if not path.is_file():
                result.rows_without_files.append(f"evidence {row_id}: {path.name}")
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = str(path.relative_to(folder))
        if path.name.startswith(".upload-"):
            result.temp_files.append(relative)
        elif path not in named:
            result.files_without_rows.append(relative)
