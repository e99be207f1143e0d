"""Report dashboards for the client's managers and the agency's coordinators: a region
report (/reports/), a store scorecard, a question analysis, the two PDFs and the batch
ZIP of a region's store scorecards. The figures come from services/report_rows.py as
the cards of reports/cards.py; the PDFs from services/scorecards/pdfs.py.

Rules decided here:

- Readers are admins, coordinators (their clients), regional managers (their regions'
  subtrees) and store managers (their stores). Reviewers are the agency's quality
  control, not report readers; they and shoppers get 404 everywhere here, as does
  anyone asking for a region, store, wave or batch outside their scope.
- The client is the one chosen (agency roles), else that of the region or wave asked
  for, else the user's (managers) or the first in scope. A region or wave of another
  client is ignored (the client switcher sends them along), one outside the user's
  scope is a 404.
- Regional and store managers read only published waves (services/follow_up/publishing.py):
  the pickers offer those, the default is chosen among them, and any other wave asked
  for (in a link, a PDF, a batch) is a 404 for them. Admins and coordinators read
  every wave as soon as its visits are approved.
- The default region is the first of the user's scope in tree order (a regional
  manager starts at their own region); the default wave is the latest readable one
  with an approved visit in the region's stores the user may see, else the latest
  readable one.
  A store manager's /reports/ is their store's scorecard (a list if they have several).
- Figures are rounded half-up to the checklist's ``decimals`` (1 unless the checklist
  says otherwise), like the PDFs, so a page and its PDF never disagree; every mean
  carries its n and, from n = 2, its 95% interval; n < 3 is marked "low sample".
- A batch belongs to the user who started it: anyone else gets 404 for its progress
  page and its ZIP; its region is checked against the user's scope again.
- The region overview and the question analysis also cover the whole client ("all
  regions", ``region=all``: head office), only for users whose scope is the whole
  client: admins, the client's coordinators, and regional managers whose regions
  include every top-level region of the client; anyone else asking gets 404.
- Both pages narrow the stores to one format and one tier (``format``, ``tier``; an
  unknown value is ignored), and report on a wave or on a period (``kind`` month,
  quarter, year with ``period`` its label, or custom with ``from`` and ``to``): see
  services/reporting/periods.py. The pickers offer the formats and tiers of the stores
  in the user's scope.
- Where the client shows shopper-adjusted scores (services/reporting/adjusted_scores.py), the
  store page, the region report of a wave and both PDFs show each store's adjusted
  score beside its raw one; ``rank=adjusted`` ranks the region's stores by it (the
  default, ``raw``, by the raw score). Reports on a period show raw scores only.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from reports import data
from reports.cards import QuestionStat, RegionReport, Stat, TagLine

from ... import clock
from ...extensions import db
from ...models import (
    ADMIN,
    COORDINATOR,
    REGIONAL_MANAGER,
    STORE_FORMATS,
    STORE_MANAGER,
    TIERS,
    Client,
    Region,
    Store,
    User,
)
from ...models.waves import APPROVED, Visit, Wave, wave_stores
from ...permissions import (
    client_scope,
    get_client_or_404,
    get_region_or_404,
    get_store_or_404,
    region_scope,
    roles_required,
    store_scope,
)
from ...services.core.visibility import published_waves
from ...services.reporting import adjusted_scores
from ...services.reporting import periods as report_periods
from ...services.reporting import rows as report_rows
from ...services.reporting.visits import load_checklist
from ...services.scorecards import pdfs as scorecards
from ..params import id_arg
from ..transaction import transaction
from . import charts as report_charts

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = (ADMIN, COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER)
REGION_READERS = (ADMIN, COORDINATOR, REGIONAL_MANAGER)
REFRESH_SECONDS = 3
CHUNK = 1 << 16
NO_FIGURE = Stat(mean=None, n=0)  # a store without an adjusted score in the wave
FORMAT_LABELS = {
    "convenience": _l("Convenience store"),
    "supermarket": _l("Supermarket"),
    "hypermarket": _l("Hypermarket"),
    "specialty": _l("Specialty store"),
    "department_store": _l("Department store"),
    "restaurant": _l("Restaurant"),
    "bank_branch": _l("Bank branch"),
    "service_centre": _l("Service centre"),
}
KIND_LABELS = {
    "wave": _l("Wave"),
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
    "custom": _l("Date range"),
}


# --- what the page is about -------------------------------------------------------------


@dataclass
class Selection:
    """The client, wave or period, region (or the whole client) and store format and
    tier a region page shows, and what the pickers offer."""

    clients: list[Client] = field(default_factory=list)
    client: Client | None = None
    waves: list[Wave] = field(default_factory=list)
    wave: Wave | None = None
    regions: list[Region] = field(default_factory=list)
    region: Region | None = None
    whole: bool = False  # all regions: the whole client
    whole_offered: bool = False
    formats: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    store_format: str | None = None
    tier: str | None = None
    choice: report_periods.PeriodChoice = field(default_factory=report_periods.PeriodChoice)

    @property
    def per_wave(self) -> bool:
        return self.choice.kind == "wave"

    @property
    def ready(self) -> bool:
        """A report can be made: a region (or all), a wave, and a valid period if any."""
        place = self.whole or self.region is not None
        return place and self.wave is not None and (self.per_wave or bool(self.choice.period))

    @property
    def about(self) -> str:
        """What the figures cover: the wave's name or the period's label."""
        if self.choice.period is not None:
            return self.choice.period.label
        return self.wave.name if self.wave else ""

    def filters(self) -> dict[str, str | None]:
        """The store filter, as report_rows.scoped_stores takes it."""
        return {"store_format": self.store_format, "tier": self.tier}

    def args(self, **extra: Any) -> dict[str, Any]:
        """The query string that shows this selection again."""
        choice, region = self.choice, self.region.id if self.region else None
        found = {
            "client": self.client.id if self.client else None,
            "region": "all" if self.whole else region,
            "format": self.store_format,
            "tier": self.tier,
            "wave": self.wave.id if self.wave and self.per_wave else None,
            "kind": None if self.per_wave else choice.kind,
            "period": choice.period.label if choice.options and choice.period else None,
            "from": choice.start_text if choice.kind == "custom" else None,
            "to": choice.end_text if choice.kind == "custom" else None,
        }
        return {k: v for k, v in (found | extra).items() if v is not None}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _language() -> str:
    return str(get_locale() or "en")


def _select() -> Selection:
    """Reads ``client``, ``wave``, ``region``, ``format``, ``tier`` and the period from
    the query string (see the rules)."""
    user, args = _user(), request.args
    region = wave = None
    wants_whole = args.get("region") == "all"
    if not wants_whole and (region_id := id_arg("region", args)) is not None:
        region = get_region_or_404(user, region_id)
    if (wave_id := id_arg("wave", args)) is not None:
        wave = _wave_or_404(user, wave_id)
    sel = Selection(clients=list(db.session.scalars(select(Client).where(client_scope(user)))))
    sel.clients.sort(key=lambda c: c.name)
    if (client_id := id_arg("client", args)) is not None:
        sel.client = get_client_or_404(user, client_id)
    elif region is not None:
        sel.client = region.client
    elif wave is not None:
        sel.client = wave.client
    elif sel.clients:
        sel.client = sel.clients[0]
    if sel.client is None:
        return sel
    client_id = sel.client.id
    sel.regions = list(
        db.session.scalars(
            select(Region)
            .where(Region.client_id == client_id, region_scope(user))
            .order_by(Region.path, Region.id)
        )
    )
    sel.whole_offered = covers_client(user, client_id)
    if wants_whole and not sel.whole_offered:
        abort(404)
    sel.whole = wants_whole
    sel.region = region if region and region.client_id == client_id else None
    if sel.region is None and sel.regions and not sel.whole:
        sel.region = sel.regions[0]
    _store_filter(sel, user, client_id)
    sel.waves = _client_waves(client_id, user)
    sel.wave = wave if wave and wave.client_id == client_id else None
    if sel.wave is None:
        stores = report_rows.scoped_stores(user, client_id, sel.region, **sel.filters())
        found = _latest_reported(user, client_id, Visit.store_id.in_(stores), sel.waves)
        sel.wave = found or (sel.waves[0] if sel.waves else None)
    sel.choice = report_periods.choose(args, sel.waves, _default_day(sel.wave))
    return sel


def covers_client(user: User, client_id: int) -> bool:
    """Whether the user's scope is the whole client (of their client scope): admins and
    coordinators always; a regional manager when every top-level region is theirs."""
    if user.role != REGIONAL_MANAGER:
        return True
    roots = select(Region.id).where(Region.client_id == client_id, Region.parent_id.is_(None))
    missed = db.session.scalars(roots.where(~region_scope(user)).limit(1)).first()
    return missed is None


def _store_filter(sel: Selection, user: User, client_id: int) -> None:
    """The formats and tiers of the stores in scope, and the ones asked for."""
    stores = report_rows.scoped_stores(user, client_id, None)
    found = db.session.execute(
        select(Store.format, Store.tier).where(Store.id.in_(stores)).distinct()
    ).all()
    present = {store_format for store_format, _tier in found}
    sel.formats = [f for f in STORE_FORMATS if f in present]
    sel.tiers = sorted({tier for _format, tier in found})
    sel.store_format, sel.tier = _known_filter()


def _known_filter() -> tuple[str | None, str | None]:
    """``format`` and ``tier`` of the query string; an unknown value counts as none."""
    store_format, tier = request.args.get("format"), request.args.get("tier")
    return (
        store_format if store_format in STORE_FORMATS else None,
        tier if tier in TIERS else None,
    )


def _default_day(wave: Wave | None) -> date:
    """The day whose month, quarter or year a period picker starts at: the default
    wave's last day, or today while it runs."""
    today = clock.today()
    if wave is None:
        return today
    return max(wave.starts_on, min(wave.ends_on, today))


def _wave_or_404(user: User, wave_id: int) -> Wave:
    """A wave of a client in scope whose results the user may read."""
    visible = select(Client.id).where(client_scope(user))
    wave = db.session.scalars(
        select(Wave).where(Wave.id == wave_id, Wave.client_id.in_(visible), published_waves(user))
    ).first()
    if wave is None:
        abort(404)
    return wave


def _client_waves(client_id: int, user: User) -> list[Wave]:
    """The client's waves whose results the user may read, latest first."""
    return list(
        db.session.scalars(
            select(Wave)
            .where(Wave.client_id == client_id, published_waves(user))
            .order_by(Wave.starts_on.desc(), Wave.id.desc())
        )
    )


def _latest_reported(user: User, client_id: int, visits: Any, waves: list[Wave]) -> Wave | None:
    """The latest of ``waves`` (the client's readable ones, latest first) with an
    approved visit among ``visits``, else None."""
    wave_id = db.session.scalars(
        select(Visit.wave_id)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(Wave.client_id == client_id, published_waves(user), Visit.status == APPROVED, visits)
        .order_by(Wave.starts_on.desc(), Wave.id.desc())
        .limit(1)
    ).first()
    return next((w for w in waves if w.id == wave_id), None)


def _wave_for_region(region: Region) -> Wave:
    """The wave asked for (of the region's client), else the default; 404 if none."""
    user = _user()
    waves = _client_waves(region.client_id, user)
    if (wave_id := id_arg("wave")) is not None:
        wave = next((w for w in waves if w.id == wave_id), None)
    else:
        stores = report_rows.scoped_stores(user, region.client_id, region)
        found = _latest_reported(user, region.client_id, Visit.store_id.in_(stores), waves)
        wave = found or (waves[0] if waves else None)
    if wave is None:
        abort(404)
    return wave


def _wave_for_store(
    user: User, store: Store, wave_id: int | None
) -> tuple[Wave | None, list[Wave]]:
    """Among the waves the user may read: the wave asked for (of the store's client;
    else 404), else the latest in which the store has an approved visit, else the latest
    that plans it, else the latest."""
    waves = _client_waves(store.client_id, user)
    if wave_id is not None:
        wave = next((w for w in waves if w.id == wave_id), None)
        if wave is None:
            abort(404)
        return wave, waves
    wave = _latest_reported(user, store.client_id, Visit.store_id == store.id, waves)
    if wave is None:
        planned = set(
            db.session.scalars(
                select(wave_stores.c.wave_id).where(wave_stores.c.store_id == store.id)
            )
        )
        wave = next((w for w in waves if w.id in planned), None)
    return wave or (waves[0] if waves else None), waves


def _places(wave: Wave) -> int:
    return int(wave.checklist_version.decimals)


# --- pages -------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    user = _user()
    if user.role == STORE_MANAGER:
        mine = select(Store).where(store_scope(user)).order_by(Store.code)
        stores = list(db.session.scalars(mine))
        if len(stores) == 1:
            return redirect(url_for("reports.store", store_id=stores[0].id))
        return render_template("reports/stores.html", stores=stores)
    sel = _select()
    report = links = by_period = None
    places = _places(sel.wave) if sel.wave else 1
    if sel.ready and sel.wave is not None and sel.choice.period is None:
        report = report_rows.region_report(sel.region, sel.wave, user, _language(), **sel.filters())
    elif sel.ready and sel.client is not None and sel.choice.period is not None:
        by_period = report_periods.region_report(
            sel.region, sel.client, sel.choice.period, user, _language(), **sel.filters()
        )
        report, places = (by_period.report, by_period.places) if by_period else (None, places)
    adjusted = rank_by = None
    if report is not None and by_period is None and sel.wave is not None:
        adjusted = adjusted_scores.for_wave(sel.wave, user)
        report, rank_by = _ranked(report, adjusted, places)
    if report is not None and sel.client is not None:
        links = _store_links(user, sel.client.id, [row.store_code for row in report.stores])
    return render_template(
        "reports/index.html",
        sel=sel,
        report=report,
        adjusted=adjusted,
        rank_by=rank_by,
        by_period=by_period,
        links=links or {},
        warned={row.store_code for row in report.early_warning} if report else set(),
        places=places,
        grade_total=sum(count for _label, count in report.grades) if report else 0,
        **_picker_labels(),
    )


def _ranked(
    report: RegionReport, adjusted: adjusted_scores.AdjustedScores | None, places: int
) -> tuple[RegionReport, str | None]:
    """The report with its stores ranked as ``rank`` asks (raw, the default, or
    adjusted, where the client shows adjusted scores), and the ranking used."""
    if adjusted is None:
        return report, None
    if request.args.get("rank") != adjusted_scores.ADJUSTED:
        return report, adjusted_scores.RAW
    rows = adjusted_scores.ranked(report.stores, adjusted.stores, places)
    return replace(report, stores=rows), adjusted_scores.ADJUSTED


def _picker_labels() -> dict[str, Any]:
    return {"format_labels": FORMAT_LABELS, "kind_labels": KIND_LABELS}


def _store_links(user: User, client_id: int, codes: list[str]) -> dict[str, int]:
    """{store code: id} for the rows of a report, in one query."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(Store.code, Store.id).where(
            Store.client_id == client_id, Store.code.in_(codes), store_scope(user)
        )
    )
    return {code: store_id for code, store_id in rows}  # noqa: C416 (rows, not pairs)


@bp.route("/questions")
@roles_required(*REGION_READERS)
def questions() -> ResponseReturnValue:
    sel = _select()
    stats: tuple[QuestionStat, ...] = ()
    tags: tuple[TagLine, ...] = ()
    places = _places(sel.wave) if sel.wave else 1
    if sel.ready and sel.wave is not None and sel.choice.period is None:
        stats, tags = question_table(sel.region, sel.wave, _user(), _language(), **sel.filters())
    elif sel.ready and sel.client is not None and sel.choice.period is not None:
        found = report_periods.question_table(
            sel.region, sel.client, sel.choice.period, _user(), _language(), **sel.filters()
        )
        if found is not None:
            stats, tags, places = found.stats, found.tags, found.places
    return render_template(
        "reports/questions.html",
        sel=sel,
        stats=stats,
        tags=tags,
        places=places,
        **_picker_labels(),
    )


def question_table(
    region: Region | None, wave: Wave, user: User, language: str, **filters: str | None
) -> tuple[tuple[QuestionStat, ...], tuple[TagLine, ...]]:
    """Every scored question of the wave's checklist over the region's approved visits
    the user may see, worst first (reports.breakdowns' order), then those without a
    compliance (no applicable answer, or no points to earn); and the tag lines.
    RegionReport.worst_questions stops at ten, this page lists them all."""
    checklist, keys = load_checklist(wave.checklist_version_id)
    stores = report_rows.scoped_stores(user, wave.client_id, region, **filters)
    figures = report_rows.wave_question_rows(wave.id, stores, dict(keys))
    stats = data.question_stats(figures, checklist, language)
    ranked = data.worst_questions(stats, len(stats))
    rest = tuple(s for s in stats if s.compliance is None)
    return ranked + rest, data.by_tag(stats, figures)


@bp.route("/stores/<int:store_id>")
@roles_required(*READERS)
def store(store_id: int) -> ResponseReturnValue:
    user = _user()
    shop = get_store_or_404(user, store_id)
    wave, waves = _wave_for_store(user, shop, id_arg("wave"))
    card = adjusted = None
    if wave is not None:
        card = scorecards.store_scorecard(shop, wave, user, _language())
        adjusted = adjusted_scores.for_wave(wave, user)
    region_visible = (
        user.role != STORE_MANAGER
        and db.session.scalars(
            select(Region.id).where(Region.id == shop.region_id, region_scope(user))
        ).first()
        is not None
    )
    return render_template(
        "reports/store.html",
        store=shop,
        wave=wave,
        waves=waves,
        card=card,
        region_visible=region_visible,
        places=_places(wave) if wave else 1,
        adjusted=adjusted,
        adjusted_stat=adjusted.stores.get(shop.code, NO_FIGURE) if adjusted else None,
    )


# --- downloads ---------------------------------------------------------------------------


@bp.route("/stores/<int:store_id>/scorecard.pdf")
@roles_required(*READERS)
def store_pdf(store_id: int) -> ResponseReturnValue:
    user = _user()
    shop = get_store_or_404(user, store_id)
    wave, _waves = _wave_for_store(user, shop, id_arg("wave"))
    if wave is None:
        abort(404)
    language = _language()
    card = scorecards.store_scorecard(shop, wave, user, language)
    adjusted = adjusted_scores.for_wave(wave, user)
    pdf = scorecards.store_scorecard_pdf(card, language, _places(wave), adjusted)
    return _pdf_response(pdf, f"scorecard {shop.code} {wave.name}")


@bp.route("/regions/<int:region_id>/report.pdf")
@roles_required(*REGION_READERS)
def region_pdf(region_id: int) -> ResponseReturnValue:
    user = _user()
    region = get_region_or_404(user, region_id)
    wave = _wave_for_region(region)
    language = _language()
    store_format, tier = _known_filter()
    report = report_rows.region_report(
        region, wave, user, language, store_format=store_format, tier=tier
    )
    places = _places(wave)
    adjusted = adjusted_scores.for_wave(wave, user)
    report, rank_by = _ranked(report, adjusted, places)
    pdf = scorecards.region_report_pdf(report, language, places, adjusted, rank_by)
    return _pdf_response(pdf, f"region report {region.code} {wave.name}")


def _pdf_response(pdf: bytes, name: str) -> ResponseReturnValue:
    return _download(pdf, "application/pdf", f"{file_name(name)}.pdf", len(pdf))


def _download(body: Any, mimetype: str, name: str, length: int) -> Response:
    """An attachment named ``name``: filename (ASCII) and, for any other name, filename*
    (RFC 6266), as send_file writes them; never cached (views/downloads.py)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Length"] = str(length)
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    names = {"filename": simple} if simple == name else {
        "filename": simple or "download", "filename*": "UTF-8''" + quote(name)
    }  # fmt: skip
    response.headers.set("Content-Disposition", "attachment", **names)
    return response


def file_name(text: str) -> str:
    """A download name: no path or shell characters, words joined by hyphens."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", text)
    return "-".join(cleaned.split())[:150] or "report"


@bp.route("/regions/<int:region_id>/scorecards", methods=["POST"])
@roles_required(*REGION_READERS)
def start_batch(region_id: int) -> ResponseReturnValue:
    user = _user()
    region = get_region_or_404(user, region_id)
    wave = _wave_or_404(user, id_arg("wave", request.form) or 0)
    if wave.client_id != region.client_id:
        abort(404)
    with transaction() as saved:  # the jobs are handed over once it commits
        batch_id = scorecards.start_region_batch(region, wave, user, _language())
    if saved:
        return redirect(url_for("reports.batch", batch_id=batch_id))
    return redirect(url_for("reports.index", region=region.id, wave=wave.id))


def _own_batch(batch_id: str) -> tuple[dict[str, Any], Region, Wave | None]:
    user = _user()
    progress = scorecards.batch_progress(batch_id)
    if progress is None or progress.get("user_id") != user.id:
        abort(404)
    region = get_region_or_404(user, int(progress["region_id"]))
    wave = db.session.get(Wave, progress["wave_id"])
    if wave is not None and not report_rows.may_read(user, wave):
        abort(404)
    return progress, region, wave


@bp.route("/batches/<batch_id>")
@roles_required(*REGION_READERS)
def batch(batch_id: str) -> ResponseReturnValue:
    progress, region, wave = _own_batch(batch_id)
    finished = progress["status"] in (scorecards.DONE, scorecards.FAILED)
    ready = progress["status"] == scorecards.DONE and scorecards.batch_zip(batch_id) is not None
    return render_template(
        "reports/batch.html",
        batch_id=batch_id,
        progress=progress,
        region=region,
        wave=wave,
        ready=ready,
        refresh=None if finished else REFRESH_SECONDS,
    )


@bp.route("/batches/<batch_id>/scorecards.zip")
@roles_required(*REGION_READERS)
def batch_download(batch_id: str) -> ResponseReturnValue:
    _progress, region, wave = _own_batch(batch_id)
    path = scorecards.batch_zip(batch_id)
    if path is None:
        abort(404)

    def chunks() -> Iterator[bytes]:  # the file is opened only once the body is sent
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    name = file_name(f"scorecards {region.code} {wave.name if wave else ''}") + ".zip"
    return _download(chunks(), "application/zip", name, path.stat().st_size)


bp.context_processor(report_charts.helpers)
