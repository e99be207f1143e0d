"""PDF scorecards: one store's scorecard, a region's report, and a batch ZIP of every
store scorecard of a region for a wave, built in the background.

The cards (reports/cards.py) come from auditapp/services/reporting/rows.py; here they
are laid out with the templates in templates/pdf/ in the reader's language and
turned into PDF by reports/render.py, which reads only the app's static files and
the evidence in the uploads folder (photo thumbnails). A card holds only the photos
its reader may see (permissions.may_see_evidence, applied in report_visits.py): one
built for a client's manager, and so their PDF and their batch ZIP, has none but the
photos of client-visible photo questions.

The batch is split into BATCH_PARTS jobs (2 by default), so two RQ workers build
it side by side. Each job writes its stores' PDFs one at a time into its own
``<id>.partN.zip``, so memory stays flat however many stores the region has, and
its progress into ``<id>.partN.json`` (status, done, total, error), each file
replaced atomically, so two jobs never write the same file; the job that finishes
last joins the parts into ``<BATCH_FOLDER>/<id>.zip`` and marks ``<id>.json`` done.
:func:`batch_progress` adds the parts up. BATCH_FOLDER defaults to
``<UPLOAD_FOLDER>/batches``: with RQ workers on other machines it must be a folder
they share with the web servers (as the uploads folder already is), because the
progress lives there, not in the database; that keeps the app stateless only as
long as the folder is shared. Old batches are for cron to delete
(``find <folder> -mtime +7 -delete``).
"""

import gc
import json
import os
import re
import secrets
import tempfile
import zipfile
from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, format_date, gettext
from sqlalchemy import or_, select

from reports import charts, render
from reports.cards import RegionReport, StoreScorecard

from ... import clock
from ...config import LANGUAGES
from ...extensions import db
from ...jobs import enqueue
from ...models import Region, Store, User
from ...models.waves import APPROVED, Visit, Wave, wave_stores
from ...permissions import store_scope
from ..core import is_published, published_waves, sees_unpublished
from ..follow_up import open_action_lines
from ..reporting import AdjustedScores, for_wave, store_card

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_BATCH_ID = re.compile(r"[0-9a-f]{32}")


# --- one PDF -----------------------------------------------------------------------


def store_scorecard_pdf(
    card: StoreScorecard,
    language: str,
    decimals: int = 1,
    adjusted: AdjustedScores | None = None,
) -> bytes:
    """The store scorecard as PDF, labels in ``language`` ("en" or "zh_Hans"); with
    ``adjusted`` (services/reporting/adjusted_scores.py), the store's adjusted score too."""
    return _pdf(
        "pdf/store_scorecard.html",
        language,
        decimals,
        card=card,
        adjusted=adjusted,
        adjusted_stat=adjusted.stores.get(card.store_code) if adjusted else None,
        client_name=card.client_name,
        subject=f"{card.store_name} ({card.store_code})",
    )


def region_report_pdf(
    report: RegionReport,
    language: str,
    decimals: int = 1,
    adjusted: AdjustedScores | None = None,
    rank_by: str | None = None,
) -> bytes:
    """The region report as PDF, labels in ``language``; with ``adjusted``, each
    store's adjusted score beside its raw one, and ``rank_by`` the ranking the
    stores come in ("raw" or "adjusted"; see views/reports.py)."""
    total = sum(count for _label, count in report.grades)
    return _pdf(
        "pdf/region_report.html",
        language,
        decimals,
        report=report,
        adjusted=adjusted,
        rank_by=rank_by,
        client_name=report.client_name,
        subject=f"{report.region_name} · {report.wave_name}",
        grade_total=total,
        warning_codes={row.store_code for row in report.early_warning},
    )


def language_of(language: str | None) -> str:
    """One of LANGUAGES for whatever a user or a command line says ("zh-CN", "zh")."""
    tag = (language or "").replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_Hans"
    return "en" if tag.startswith("en") else str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _pdf(template: str, language: str, decimals: int, **values: Any) -> bytes:
    language = language if language in LANGUAGES else language_of(language)
    static = Path(current_app.static_folder or "")
    with force_locale(language):
        html = render_template(
            template,
            **values,
            language=language,
            places=decimals,
            today=clock.today(),
            **_helpers(),
        )
        page_label = render.page_label_stylesheet(gettext("Page {page} of {pages}"))
    # The print CSS is parsed once per process, not once per document.
    sheets = [render.stylesheet(static / "pdf.css"), page_label]
    # Photo thumbnails live under <UPLOAD_FOLDER>/evidence (services/visits/evidence.py).
    evidence = Path(current_app.config["UPLOAD_FOLDER"]) / "evidence"
    return render.render_pdf(html, static, [static, evidence], sheets)


def _helpers() -> dict[str, Any]:
    def fmt_date(day: date) -> str:
        return str(format_date(day, "medium"))

    def fmt_period(period: tuple[date, date]) -> str:
        return f"{fmt_date(period[0])} – {fmt_date(period[1])}"

    return {
        "num": render.number,
        "signed": render.signed,
        "pct": render.percent,
        "points": render.points,
        "file_url": render.file_url,
        "bar": charts.bar,
        "trend_chart": charts.trend_chart,
        "share": lambda part, whole: Fraction(part, whole) if whole else None,
        "fmt_date": fmt_date,
        "fmt_period": fmt_period,
    }


# --- the batch ZIP of a region's store scorecards -------------------------------------


def batch_folder() -> Path:
    configured = current_app.config.get("BATCH_FOLDER")
    return Path(configured or Path(current_app.config["UPLOAD_FOLDER"]) / "batches")


def batch_zip(batch_id: str) -> Path | None:
    """The finished ZIP, or None while it is being built (or for an unknown id)."""
    if not _BATCH_ID.fullmatch(batch_id):
        return None
    path = batch_folder() / f"{batch_id}.zip"
    return path if path.is_file() else None


def batch_progress(batch_id: str) -> dict[str, Any] | None:
    """{"status", "done", "total", "error", "user_id", "region_id", "wave_id", ...}:
    status is queued, running, done or failed (error says why); None for an unknown
    id. The view that shows it must check user_id against the signed-in user."""
    if not _BATCH_ID.fullmatch(batch_id):
        return None
    meta = _read_json(_file(batch_id, ".json"))
    if meta is None or meta["status"] in (DONE, FAILED):
        return meta
    parts = [_read_json(_file(batch_id, f".part{k}.json")) or {} for k in range(meta["parts"])]
    failed = [p for p in parts if p.get("status") == FAILED]
    started = any(p.get("status") in (RUNNING, DONE) for p in parts)
    return {
        **meta,
        "done": sum(int(p.get("done", 0)) for p in parts),
        "status": FAILED if failed else (RUNNING if started else QUEUED),
        "error": failed[0].get("error") if failed else None,
    }


def start_region_batch(region: Region, wave: Wave, user: User, language: str | None = None) -> str:
    """Queue the ZIP of every store scorecard of the region (with its subregions) for
    the wave, as ``user`` may see them; returns the batch id. The stores are split
    into BATCH_PARTS jobs (2 by default) so that as many workers share the work;
    the job that finishes last puts the parts together. The jobs start once the
    caller's transaction commits (at once in tests)."""
    batch_id = secrets.token_hex(16)
    language = language_of(language or user.locale)
    store_ids = [store.id for store in region_stores(region, wave, user)]
    count = max(1, min(int(current_app.config.get("BATCH_PARTS") or 2), len(store_ids)))
    size = -(-len(store_ids) // count) or 1
    batch_folder().mkdir(parents=True, exist_ok=True)
    _write_json(
        _file(batch_id, ".json"),
        {
            "status": QUEUED,
            "done": 0,
            "total": len(store_ids),
            "error": None,
            "parts": count,
            "user_id": user.id,
            "region_id": region.id,
            "wave_id": wave.id,
            "language": language,
            "created_at": _now(),
            "finished_at": None,
        },
    )
    for part in range(count):
        ids = store_ids[part * size : (part + 1) * size]
        enqueue(_PART_JOB, batch_id, part, ids, wave.id, user.id, language)
    return batch_id


def store_scorecard(
    store: Store, wave: Wave, user: User, language: str | None = None
) -> StoreScorecard:
    """The store's scorecard for the wave with its open corrective actions. Raises
    NotFound when the user may not see the store or the wave's results."""
    card = store_card(store, wave, user, language)
    return replace(card, corrective_actions=open_action_lines(store, language))


_PART_JOB = "auditapp.services.scorecards.pdfs:build_batch_part"


def build_batch_part(
    batch_id: str, part: int, store_ids: list[int], wave_id: int, user_id: int, language: str
) -> None:
    """The job: these stores' scorecards, one at a time, into ``<id>.part<n>.zip``."""
    progress: dict[str, Any] = {"status": RUNNING, "done": 0, "total": len(store_ids)}
    progress_file = _file(batch_id, f".part{part}.json")
    building = _file(batch_id, f".part{part}.zip.tmp")
    # Every PDF allocates enough to set off full garbage collections, and each would
    # walk the few hundred thousand objects the app and its libraries hold for good;
    # they are set aside from the collector while the job runs (the collector still
    # frees what the job drops): a fifth off each scorecard.
    gc.freeze()
    try:
        _write_json(progress_file, progress)
        wave, user = db.session.get(Wave, wave_id), db.session.get(User, user_id)
        if wave is None or user is None:
            raise LookupError("the wave or the user no longer exists")
        decimals = wave.checklist_version.decimals
        # One fit for the whole part; none when the wave is closed to the user.
        readable = sees_unpublished(user) or is_published(wave)
        adjusted = for_wave(wave, user) if store_ids and readable else None
        found = {s.id: s for s in db.session.scalars(select(Store).where(Store.id.in_(store_ids)))}
        # PDFs are compressed already: the parts are only stored, the final ZIP deflated.
        with zipfile.ZipFile(building, "w", zipfile.ZIP_STORED) as archive:
            for done, store_id in enumerate(store_ids, start=1):
                if (store := found.get(store_id)) is not None:
                    card = store_scorecard(store, wave, user, language)
                    archive.writestr(
                        _zip_name(store), store_scorecard_pdf(card, language, decimals, adjusted)
                    )
                    del card
                progress["done"] = done
                _write_json(progress_file, progress)
        os.replace(building, _file(batch_id, f".part{part}.zip"))
        progress["status"] = DONE
        _write_json(progress_file, progress)
    except Exception as exc:
        building.unlink(missing_ok=True)
        progress.update(status=FAILED, error=f"{type(exc).__name__}: {exc}")
        _write_json(progress_file, progress)
        raise
    finally:
        gc.unfreeze()
    _finish_if_complete(batch_id)


def _finish_if_complete(batch_id: str) -> None:
    """The last part to finish joins the parts into ``<id>.zip``. Each part writes its
    own files, so parts never race on one; exactly one of them wins the merge lock."""
    meta = _read_json(_file(batch_id, ".json"))
    if meta is None:
        return
    parts = range(meta["parts"])
    statuses = [(_read_json(_file(batch_id, f".part{k}.json")) or {}).get("status") for k in parts]
    if any(status != DONE for status in statuses):
        return
    try:
        os.close(os.open(_file(batch_id, ".merging"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    joining = _file(batch_id, ".zip.tmp")
    with zipfile.ZipFile(joining, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for k in parts:
            with zipfile.ZipFile(_file(batch_id, f".part{k}.zip")) as piece:
                for info in piece.infolist():
                    out.writestr(info.filename, piece.read(info))
    os.replace(joining, _file(batch_id, ".zip"))
    meta.update(status=DONE, done=meta["total"], finished_at=_now())
    _write_json(_file(batch_id, ".json"), meta)
    for k in parts:
        _file(batch_id, f".part{k}.zip").unlink(missing_ok=True)
        _file(batch_id, f".part{k}.json").unlink(missing_ok=True)
    _file(batch_id, ".merging").unlink(missing_ok=True)


def region_stores(region: Region, wave: Wave, user: User) -> list[Store]:
    """The stores of the region's subtree that are in the wave (planned in it, or with
    an approved visit in it) and that the user may see, by store code; none when the
    wave's results are not open to the user (unpublished, for the client's managers)."""
    in_subtree = select(Region.id).where(Region.path.startswith(region.path, autoescape=True))
    planned = select(wave_stores.c.store_id).where(wave_stores.c.wave_id == wave.id)
    visited = select(Visit.store_id).where(Visit.wave_id == wave.id, Visit.status == APPROVED)
    query = (
        select(Store)
        .where(
            Store.client_id == wave.client_id,
            Store.region_id.in_(in_subtree),
            or_(Store.id.in_(planned), Store.id.in_(visited)),
            store_scope(user),
            select(Wave.id).where(Wave.id == wave.id, published_waves(user)).exists(),
        )
        .order_by(Store.code)
    )
    return list(db.session.scalars(query))


def _zip_name(store: Store) -> str:
    """ "SH001 上海南京西路店.pdf": zipfile marks non-ASCII names as UTF-8."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", f"{store.code} {store.name}").strip()
    return f"{name[:120]}.pdf"


def _file(batch_id: str, suffix: str) -> Path:
    return batch_folder() / f"{batch_id}{suffix}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace the file in one step, so a reader never sees half of it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return clock.utcnow().isoformat(timespec="seconds")
