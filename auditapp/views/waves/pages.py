"""Waves for coordinators: the list, set-up (new, edit), generating visits,
auto-scheduling, "create next wave" and publishing the results. The board, progress
and visit pages live in ``board``, on this same blueprint.

Admins see every wave; coordinators the waves of their clients; everyone else gets
404. Every state change is a POST (CSRF is checked app-wide); the services own the
rules, the views turn their refusals into messages next to the field concerned.

Rules decided here:

- Publishing (services/follow_up/publishing.py) opens a wave's approved results to the
  client's managers, now or at a scheduled time. The schedule is typed, and shown, in
  the time zone of the wave's stores (services/waves/setup.stores_zone), named beside
  the fields; a time already past publishes at once.
- The wave is locked while it is published, so two coordinators publishing at the
  same moment publish it once; the second is told it is already published.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms 3.2 lacks it

from forms.waves import (
    SLOT_CHOICES,
    AddVisitForm,
    PrecisionForm,
    PublishForm,
    WaveForm,
    wave_label,
)

from ...extensions import db
from ...models import (
    ADMIN,
    COORDINATOR,
    ChecklistVersion,
    Client,
    ShopperProfile,
    User,
)
from ...models.waves import (
    ASSIGNED,
    PLANNED,
    Visit,
    Wave,
)
from ...permissions import client_scope, roles_required
from ...scheduling.reasons import short
from ...services.follow_up import publishing
from ...services.waves import scheduling
from ...services.waves import setup as waves
from ...services.waves.notifications import notify_assigned
from ...services.waves.precision import DROP, wave_precision
from ...services.waves.progress import (
    approved_count,
    funnel_counts,
    wave_funnel,
    waves_run_by,
)
from ..params import page_arg
from ..transaction import add_error, transaction

bp = Blueprint("waves", __name__, url_prefix="/waves")
STAFF = (ADMIN, COORDINATOR)
SLOT_LABELS = {choice[0]: choice[1] for choice in SLOT_CHOICES}


@bp.app_template_global("wave_label")
def _wave_label(vocabulary: str, value: str | None) -> str:
    return wave_label(vocabulary, value)


# --- scope -------------------------------------------------------------------------


def get_wave_or_404(wave_id: int) -> Wave:
    wave = db.session.scalars(
        select(Wave).where(Wave.id == wave_id, waves_run_by(current_user))
    ).first()
    if wave is None:
        abort(404)
    return wave


# --- reasons in words, by code (the engine's English is its fallback) ----------------


def reason_text(code: str, params: Mapping[str, Any]) -> str:
    p = dict(params)
    if code == "no_candidates":
        return _("No shoppers were offered for this visit.")
    if "eligible" in p:
        return _(
            "All %(eligible)d eligible shoppers were already fully booked; most often: "
            "%(rule)s (%(count)d of %(eligible)d).",
            rule=short_text(code), **p,
        )  # fmt: skip
    if "total" in p:
        return _(
            "No shopper may do this visit; most often: %(rule)s (%(count)d of %(total)d "
            "shoppers).",
            rule=short_text(code), **p,
        )  # fmt: skip
    sentences = {
        "inactive": lambda: _("the shopper is not active"),
        "conflict_client": lambda: _("conflict of interest with the client"),
        "conflict_store": lambda: _("conflict of interest with this store"),
        "rotation": lambda: _(
            "shopped this store on %(last_visit)s, %(days_apart)d days from this visit; "
            "the client's rotation needs %(rotation_days)d days",
            **p,
        ),
        "same_store_in_wave": lambda: _("already visits this store in this wave (%(day)s)", **p),
        "level": lambda: _("level %(level)d; the visit needs level %(required_level)d", **p),
        "distance": lambda: _("lives %(distance_km)s km away; the limit is %(max_km)s km", **p),
        "unavailable": lambda: _("not available on %(day)s", **p),
        "capacity_day": lambda: _(
            "already %(booked)d visits on %(day)s; the daily limit is %(limit)d", **p
        ),
        "capacity_week": lambda: _(
            "already %(booked)d visits in week %(week)s; the weekly limit is %(limit)d", **p
        ),
        "overlap": lambda: _("already booked from %(other_start)s to %(other_end)s", **p),
    }
    make = sentences.get(code)
    try:
        return make() if make else short(code)
    except (KeyError, TypeError, ValueError):
        return short_text(code)


def short_text(code: str) -> str:
    texts = {
        "inactive": _("not active"),
        "conflict_client": _("conflict of interest with the client"),
        "conflict_store": _("conflict of interest with the store"),
        "rotation": _("shopped this store too recently"),
        "same_store_in_wave": _("already visits this store in this wave"),
        "level": _("qualification level too low"),
        "distance": _("too far from home"),
        "unavailable": _("not available that day"),
        "capacity_day": _("daily limit reached"),
        "capacity_week": _("weekly limit reached"),
        "overlap": _("booked at the same time"),
    }
    return texts.get(code, short(code))


# --- the list ------------------------------------------------------------------------


@bp.route("/")
@roles_required(*STAFF)
def index() -> ResponseReturnValue:
    query = (
        select(Wave)
        .where(waves_run_by(current_user))
        .options(joinedload(Wave.client))  # eager: the list shows each wave's client
        .order_by(Wave.starts_on.desc(), Wave.id.desc())
    )
    page = db.paginate(query, page=page_arg(), per_page=25, error_out=False)
    counts = funnel_counts([w.id for w in page.items])
    return render_template("waves/index.html", page=page, counts=counts)


# --- set-up ------------------------------------------------------------------------


def _wave_form(wave: Wave | None) -> WaveForm:
    form = WaveForm(obj=wave)
    if wave is not None:
        clients = [wave.client]
    else:
        clients = list(
            db.session.scalars(
                select(Client)
                .where(client_scope(current_user), Client.active)
                .order_by(Client.name)
            )
        )
    ids = [c.id for c in clients]
    form.client_id.choices = [SelectChoice(c.id, f"{c.name} ({c.code})") for c in clients]
    versions = waves.published_versions(ids)
    form.checklist_version_id.choices = [
        SelectChoice(v.id, f"{v.checklist.client.code} · {v.title} · v{v.number}") for v in versions
    ]
    regions = waves.regions_of(ids)
    form.regions.choices = [
        SelectChoice(r.id, f"{r.client.code} · {'· ' * r.depth}{r.name}") for r in regions
    ]
    if wave is not None and request.method == "GET":
        form.fill(wave, waves.listed_store_codes(wave))
    return form


def _setup(form: WaveForm) -> tuple[Client, ChecklistVersion, dict[str, Any]] | None:
    """The validated set-up, or None with the errors put on the fields."""
    client = db.session.scalars(
        select(Client).where(Client.id == form.client_id.data, client_scope(current_user))
    ).first()
    if client is None:
        return None  # not a choice of this user: the field already says so
    codes = form.codes()
    checked = waves.check_choices(
        client, form.checklist_version_id.data, form.regions.data or [], codes
    )
    for name, problem in checked.problems.items():
        add_error(form[name], problem)
    if checked.version is None or form.errors:
        return None
    scope = {
        "regions": sorted(form.regions.data or []),
        "tiers": sorted(form.tiers.data or []),
        "formats": sorted(form.formats.data or []),
        "stores": checked.store_ids,
    }
    data: dict[str, Any] = {name: getattr(form, name).data for name in waves.WAVE_FIELDS}
    for name in ("scenario", "purchase", "questions_to_ask"):
        data[name] = (data[name] or "").strip()
    data.update(
        currency=data["currency"].upper(),
        scope={k: v for k, v in scope.items() if v},
        visits_per_tier=form.visits_per_tier(),
        slot_quotas=form.slot_quotas(),
    )
    return client, checked.version, data


def _save(form: WaveForm, wave: Wave | None) -> Wave | None:
    """Validates everything at once (fields, then the database rules) and saves."""
    if not form.is_submitted():
        return None
    valid = form.validate()
    setup = _setup(form)
    if not valid or setup is None:
        return None
    with transaction(form) as saved:
        new = waves.save_wave(wave, *setup)
        db.session.flush()
    return new if saved else None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create() -> ResponseReturnValue:
    form = _wave_form(None)
    if wave := _save(form, None):
        flash(_("Wave %(name)s created with %(n)d stores.", name=wave.name, n=len(wave.stores)),
              "success")  # fmt: skip
        return redirect(url_for("waves.show", wave_id=wave.id))
    status = 422 if request.method == "POST" else 200
    return render_template("waves/form.html", form=form, wave=None), status


@bp.route("/<int:wave_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    form = _wave_form(wave)
    if _save(form, wave):
        flash(_("Saved."), "success")
        return redirect(url_for("waves.show", wave_id=wave.id))
    status = 422 if request.method == "POST" else 200
    return render_template("waves/form.html", form=form, wave=wave), status


# --- the wave page and its actions ---------------------------------------------------


def add_visit_form(wave: Wave) -> AddVisitForm:
    form = AddVisitForm(prefix="add")
    form.store_id.choices = [
        SelectChoice(s.id, f"{s.code} · {s.name}")
        for s in sorted(wave.stores, key=lambda s: s.code)
    ]
    return form


def render_wave(wave: Wave, status: int = 200, **context: Any) -> ResponseReturnValue:
    counts = wave_funnel(wave)
    context.setdefault("add_form", add_visit_form(wave))
    context.setdefault("publish_form", publish_form(wave))
    if "precision" not in context:
        context["precision_form"] = targets = PrecisionForm(request.args)
        targets.validate()  # a wrong target shows its error and the default is used
        half = None if targets.half.errors else targets.half.data
        drop = DROP if targets.drop.errors or not targets.drop.data else targets.drop.data
        context["precision"] = wave_precision(wave, half, drop)
    stores = {s.id: s for s in wave.stores}
    return (
        render_template(
            "waves/show.html", wave=wave, counts=counts, stores=stores,
            slot_labels=SLOT_LABELS, publication=publication(wave), **context,
        ),
        status,
    )  # fmt: skip


@bp.route("/<int:wave_id>")
@roles_required(*STAFF)
def show(wave_id: int) -> ResponseReturnValue:
    return render_wave(get_wave_or_404(wave_id))


@bp.route("/<int:wave_id>/generate", methods=["POST"])
@roles_required(*STAFF)
def generate(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    with transaction() as saved:
        created, unplaced = waves.generate_visits(wave, current_user)
    if saved:
        return render_wave(wave, generated=created, unplaced=unplaced)
    return render_wave(wave, saved.status)


@bp.route("/<int:wave_id>/auto-schedule", methods=["POST"])
@roles_required(*STAFF)
def auto_schedule(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    limit = float(current_app.config.get("WAVE_SCHEDULE_SECONDS", 20))
    with transaction() as saved:
        outcome = scheduling.schedule_wave(wave, current_user, time_limit=limit)
        unfilled = _notify_scheduled(outcome)
    if not saved:
        return render_wave(wave, saved.status)
    unfilled.sort(key=lambda item: (item[0].window_start, item[0].id))
    total = outcome.result.stats.visits
    return render_wave(
        wave, schedule=outcome, unfilled=unfilled,
        fill_rate=(outcome.written / total if total else 1.0),
    )  # fmt: skip


def _notify_scheduled(outcome: scheduling.ScheduleOutcome) -> list[tuple[Visit, str]]:
    """E-mails the shoppers the run assigned; the visits left unfilled, with why."""
    db.session.flush()
    touched = [a.visit_id for a in outcome.result.assignments]
    touched += [u.visit_id for u in outcome.result.unfilled]
    visits = {
        v.id: v
        for v in db.session.scalars(
            select(Visit)
            .options(
                joinedload(Visit.store),
                joinedload(Visit.shopper).joinedload(ShopperProfile.user),
            )
            .where(Visit.id.in_(touched))
        )
    }
    unfilled = [
        (visits[u.visit_id], reason_text(u.reason_code, dict(u.params)))
        for u in outcome.result.unfilled
    ]
    for a in outcome.result.assignments:
        visit = visits[a.visit_id]
        if visit.shopper_id == a.shopper_id and visit.status == ASSIGNED:
            notify_assigned(visit)
        elif visit.status == PLANNED:  # taken meanwhile by a claim that overlaps
            unfilled.append((visit, _("The chosen shopper was booked meanwhile; run again.")))
    return unfilled


@bp.route("/<int:wave_id>/next", methods=["POST"])
@roles_required(*STAFF)
def next_wave(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    with transaction() as saved:
        new = waves.create_next_wave(wave)
    if saved:
        flash(
            _("Next wave created for %(start)s – %(end)s.", start=new.starts_on, end=new.ends_on),
            "success",
        )
        return redirect(url_for("waves.show", wave_id=new.id))
    return redirect(url_for("waves.show", wave_id=wave_id))


# --- publishing the results ----------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """Where a wave's publication stands, as the wave page shows it."""

    zone: str
    published_at: datetime | None
    publish_at: datetime | None
    publisher: User | None  # who published, or scheduled it


def publish_form(wave: Wave) -> PublishForm:
    """The schedule form, showing the time already scheduled (in the stores' zone)."""
    if wave.publish_at is None:
        return PublishForm(prefix="publish")
    local = wave.publish_at.astimezone(ZoneInfo(waves.stores_zone(wave)))
    return PublishForm(prefix="publish", data={"day": local.date(), "at": local.time()})


def publication(wave: Wave) -> Publication:
    who = db.session.get(User, wave.published_by_id) if wave.published_by_id else None
    return Publication(waves.stores_zone(wave), wave.published_at, wave.publish_at, who)


def _locked_wave_or_404(wave_id: int) -> Wave:
    """The wave, its row locked until the commit (PostgreSQL; SQLite writes one at a
    time anyway), read afresh so a publication that just happened is seen."""
    wave = get_wave_or_404(wave_id)
    db.session.refresh(wave, with_for_update=True)
    return wave


def _published_message(wave: Wave, approved: int) -> str:
    return ngettext(
        "Results published: the client's managers now see the %(num)d approved visit of "
        "%(wave)s.",
        "Results published: the client's managers now see the %(num)d approved visits of "
        "%(wave)s.",
        approved, wave=wave.name,
    )  # fmt: skip


@bp.route("/<int:wave_id>/publish", methods=["POST"])
@roles_required(*STAFF)
def publish(wave_id: int) -> ResponseReturnValue:
    wave = _locked_wave_or_404(wave_id)
    with transaction() as saved:
        publishing.publish_wave(wave, current_user)
    if saved:
        flash(_published_message(wave, approved_count(wave)), "success")
    return redirect(url_for("waves.show", wave_id=wave_id))


@bp.route("/<int:wave_id>/publish/schedule", methods=["POST"])
@roles_required(*STAFF)
def schedule_publication(wave_id: int) -> ResponseReturnValue:
    wave = _locked_wave_or_404(wave_id)
    form = PublishForm(prefix="publish")
    if not form.validate_on_submit():
        return render_wave(wave, 422, publish_form=form)
    zone = waves.stores_zone(wave)
    day, moment = form.day.data, form.at.data
    assert day is not None and moment is not None  # required fields, validated
    at = datetime.combine(day, moment, ZoneInfo(zone))
    with transaction() as saved:  # refused when published meanwhile: nothing to schedule
        published = publishing.publish_wave(wave, current_user, at)
    if saved and published:
        flash(_("That time has passed, so the results are published now.") + " "
              + _published_message(wave, approved_count(wave)), "success")  # fmt: skip
    elif saved:
        when = f"{at:%Y-%m-%d %H:%M}"
        flash(_("Results will be published on %(when)s (%(zone)s).", when=when, zone=zone),
              "success")  # fmt: skip
    return redirect(url_for("waves.show", wave_id=wave_id))


@bp.route("/<int:wave_id>/publish/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel_publication(wave_id: int) -> ResponseReturnValue:
    wave = _locked_wave_or_404(wave_id)
    with transaction() as saved:
        publishing.cancel_schedule(wave)
    if saved:
        flash(_("The scheduled publication is cancelled; the results stay with the agency."),
              "success")  # fmt: skip
    return redirect(url_for("waves.show", wave_id=wave_id))
