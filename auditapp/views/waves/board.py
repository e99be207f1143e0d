"""The wave board (by day, store or shopper), the progress dashboard per region, and a
visit's page for coordinators: details, event log, direct assignment from the ranked
list of eligible shoppers (with the reasons others are excluded), reschedule, release,
cancel, and adding a visit by hand. Routes live on the ``waves`` blueprint.

Times are entered and shown in the store's own time zone and stored in UTC.
"""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from forms.waves import AssignForm, CancelForm, ReleaseForm, RescheduleForm

from ...extensions import db
from ...models import Region, ShopperProfile
from ...models.waves import (
    ACCEPTED,
    ASSIGNED,
    PLANNED,
    VISIT_STATUSES,
    Visit,
    VisitEvent,
)
from ...permissions import roles_required
from ...services.waves import assignments, scheduling
from ...services.waves import setup as waves_service
from ...services.waves.notifications import notify_assigned
from ...services.waves.plan import WEEKDAY_KEYS
from ...services.waves.progress import board_visits, region_rollup, waves_run_by
from ..params import id_arg, page_arg, parse_id
from ..transaction import add_error, transaction
from .pages import (
    SLOT_LABELS,
    STAFF,
    add_visit_form,
    bp,
    get_wave_or_404,
    reason_text,
    render_wave,
)

GROUPINGS = ("day", "store", "shopper")
OPEN = (PLANNED, ASSIGNED, ACCEPTED)  # states in which a visit can still be changed


def local_window(visit: Visit) -> tuple[datetime, datetime]:
    zone = ZoneInfo(visit.store.timezone)
    return visit.window_start.astimezone(zone), visit.window_end.astimezone(zone)


@bp.app_template_filter("visit_window")
def visit_window(visit: Visit) -> str:
    """'Mon 2026-12-07 09:00–10:00' in the store's time zone."""
    start, end = local_window(visit)
    day = format_date(start.date(), "EEE yyyy-MM-dd")
    return f"{day} {start:%H:%M}–{end:%H:%M}"


@bp.app_template_filter("in_zone")
def in_zone(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M}"


# --- the board -------------------------------------------------------------------------


@bp.route("/<int:wave_id>/board")
@roles_required(*STAFF)
def board(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    args = request.args
    by = args.get("by", "day") if args.get("by") in GROUPINGS else "day"
    region = None
    if region_id := id_arg("region", args):
        region = db.session.scalars(
            select(Region).where(Region.id == region_id, Region.client_id == wave.client_id)
        ).first()
        if region is None:
            abort(404)
    status = args.get("status", "")
    query = board_visits(wave, region, status, by)
    page = db.paginate(query, page=page_arg(), per_page=100, error_out=False)
    groups: list[tuple[str, list[Visit]]] = []
    for visit in page.items:
        label = _group_label(visit, by)
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append(visit)
    rollup, overall = region_rollup(wave.id, wave.client_id)
    filters = {k: v for k, v in {"by": by, "region": region_id, "status": status}.items() if v}
    return render_template(
        "waves/board.html", wave=wave, groups=groups, page=page, by=by, filters=filters,
        rollup=rollup, overall=overall, statuses=VISIT_STATUSES, slot_labels=SLOT_LABELS,
    )  # fmt: skip


def _group_label(visit: Visit, by: str) -> str:
    if by == "store":
        return f"{visit.store.code} · {visit.store.name}"
    if by == "shopper":
        return visit.shopper.user.name if visit.shopper else _("Unassigned")
    return str(format_date(local_window(visit)[0].date(), "EEEE yyyy-MM-dd"))


# --- progress --------------------------------------------------------------------------


@bp.route("/<int:wave_id>/progress")
@roles_required(*STAFF)
def progress(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    rollup, overall = region_rollup(wave.id, wave.client_id)
    return render_template("waves/progress.html", wave=wave, rollup=rollup, overall=overall)


# --- one visit -------------------------------------------------------------------------


def get_visit_or_404(visit_id: int) -> Visit:
    visit = db.session.scalars(
        select(Visit)
        .join(Visit.wave)
        .options(
            contains_eager(Visit.wave),
            joinedload(Visit.store),
            joinedload(Visit.shopper).joinedload(ShopperProfile.user),
        )
        .where(Visit.id == visit_id, waves_run_by(current_user))
    ).first()
    if visit is None:
        abort(404)
    return visit


def render_visit(visit: Visit, status: int = 200, **forms: Any) -> ResponseReturnValue:
    events = db.session.scalars(
        select(VisitEvent)
        .options(joinedload(VisitEvent.actor))
        .where(VisitEvent.visit_id == visit.id)
        .order_by(VisitEvent.id)
    ).all()
    ranked: list[tuple[ShopperProfile, Any]] = []
    excluded: list[tuple[ShopperProfile, list[str]]] = []
    if visit.status in OPEN:
        ranking = scheduling.ranking(visit)
        profiles = {
            p.id: p
            for p in db.session.scalars(
                select(ShopperProfile).options(selectinload(ShopperProfile.user))
            )
        }
        ranked = [(profiles[r.shopper_id], r) for r in ranking.eligible]
        excluded = [
            (profiles[e.shopper_id], [reason_text(r.code, dict(r.params)) for r in e.reasons])
            for e in ranking.excluded
            if e.shopper_id != visit.shopper_id
        ]
        excluded.sort(key=lambda item: item[0].user.name)
    start, end = local_window(visit)
    forms.setdefault("reschedule_form", RescheduleForm(
        prefix="move", data={"day": start.date(), "start": start.time(), "end": end.time()}
    ))  # fmt: skip
    forms.setdefault("cancel_form", CancelForm(prefix="cancel"))
    return (
        render_template(
            "waves/visit.html", visit=visit, wave=visit.wave, events=events, ranked=ranked,
            excluded=excluded, assign_form=AssignForm(), release_form=ReleaseForm(),
            open_states=OPEN, slot_labels=SLOT_LABELS, **forms,
        ),
        status,
    )  # fmt: skip


def _back(visit: Visit) -> ResponseReturnValue:
    return redirect(url_for("waves.visit", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>")
@roles_required(*STAFF)
def visit(visit_id: int) -> ResponseReturnValue:
    return render_visit(get_visit_or_404(visit_id))


@bp.route("/visits/<int:visit_id>/assign", methods=["POST"])
@roles_required(*STAFF)
def assign(visit_id: int) -> ResponseReturnValue:
    visit = get_visit_or_404(visit_id)
    form = AssignForm()
    shopper_id = parse_id(form.shopper_id.data) or 0
    shopper = db.session.get(ShopperProfile, shopper_id)
    if not form.validate_on_submit() or shopper is None:
        abort(400)
    if visit.status not in OPEN:
        flash(_("This visit can no longer be assigned."), "error")
        return _back(visit)
    if shopper.id == visit.shopper_id:
        flash(_("This shopper already has the visit."), "warning")
        return _back(visit)
    ranking = scheduling.ranking(visit)
    refused = next((e for e in ranking.excluded if e.shopper_id == shopper.id), None)
    if refused is not None:
        reasons = "; ".join(reason_text(r.code, dict(r.params)) for r in refused.reasons)
        flash(_("%(name)s cannot do this visit: %(why)s", name=shopper.user.name, why=reasons),
              "error")  # fmt: skip
        return _back(visit)
    with transaction() as saved:
        if visit.status == PLANNED:
            visit = assignments.assign(visit, shopper, current_user)
        else:
            visit = assignments.reassign(visit, shopper, current_user, form.note.data or "")
        notify_assigned(visit)
    if saved:
        flash(_("Assigned to %(name)s; they have been e-mailed.", name=shopper.user.name),
              "success")  # fmt: skip
    return _back(visit)


@bp.route("/visits/<int:visit_id>/release", methods=["POST"])
@roles_required(*STAFF)
def release(visit_id: int) -> ResponseReturnValue:
    visit = get_visit_or_404(visit_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort(400)
    note = form.note.data or _("Unassigned by the coordinator")
    with transaction() as saved:
        assignments.release(visit, current_user, note)
    if saved:
        flash(_("The visit is open again."), "success")
    return _back(visit)


def _within_hours(visit: Visit, day: date, start: time, end: time) -> str | None:
    hours = (visit.store.opening_hours or {}).get(WEEKDAY_KEYS[day.weekday()])
    if not hours:
        return _("The store is closed on that day.")
    opens, closes = hours
    if f"{start:%H:%M}" < opens or f"{end:%H:%M}" > closes:
        return _("The store is open from %(opens)s to %(closes)s that day.",
                 opens=opens, closes=closes)  # fmt: skip
    return None


@bp.route("/visits/<int:visit_id>/reschedule", methods=["POST"])
@roles_required(*STAFF)
def reschedule(visit_id: int) -> ResponseReturnValue:
    visit = get_visit_or_404(visit_id)
    form = RescheduleForm(prefix="move")
    if not form.validate_on_submit():
        return render_visit(visit, 422, reschedule_form=form)
    day, opens, closes = form.day.data, form.start.data, form.end.data
    assert day is not None and opens is not None and closes is not None  # required, validated
    if problem := _within_hours(visit, day, opens, closes):
        add_error(form.start, problem)
        return render_visit(visit, 422, reschedule_form=form)
    zone = ZoneInfo(visit.store.timezone)
    start, end = datetime.combine(day, opens, zone), datetime.combine(day, closes, zone)
    with transaction(form.day) as saved:
        assignments.reschedule(visit, start, end, current_user)
    if saved:
        flash(_("Rescheduled."), "success")
        return _back(visit)
    return render_visit(get_visit_or_404(visit_id), 409, reschedule_form=form)


@bp.route("/visits/<int:visit_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel(visit_id: int) -> ResponseReturnValue:
    visit = get_visit_or_404(visit_id)
    form = CancelForm(prefix="cancel")
    if not form.validate_on_submit():
        return render_visit(visit, 422, cancel_form=form)
    with transaction(form.note) as saved:
        assignments.cancel(visit, current_user, (form.note.data or "").strip())
    if saved:
        flash(_("The visit is cancelled."), "success")
        return _back(visit)
    return render_visit(get_visit_or_404(visit_id), 409, cancel_form=form)


@bp.route("/<int:wave_id>/visits", methods=["POST"])
@roles_required(*STAFF)
def add_visit(wave_id: int) -> ResponseReturnValue:
    wave = get_wave_or_404(wave_id)
    form = add_visit_form(wave)
    if not form.validate_on_submit():
        return render_wave(wave, 422, add_form=form)
    store = next(s for s in wave.stores if s.id == form.store_id.data)
    day = form.day.data
    assert day is not None  # required, validated
    with transaction(form) as saved:  # beside the field the refusal names: day or slot
        new = waves_service.add_visit(wave, store, day, form.slot.data, current_user)
    if saved:
        flash(_("Visit added."), "success")
        return redirect(url_for("waves.visit", visit_id=new.id))
    return render_wave(wave, 422, add_form=form)
