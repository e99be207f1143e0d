"""The shopper's own screens, made for a phone: "My visits" (accept or decline what a
coordinator assigned), a visit's briefing, "Find visits" (the shopboard: claim an
open visit, nearest first) and the calendar feed.

A shopper only ever reaches their own visits; another shopper's visit is not found
(404). Claiming is the exception that cannot be hidden: a visit that someone else
holds by the time the claim arrives gets the same answer as a lost race, because
from the claimant's side that is exactly what happened.
"""

from datetime import datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, format_time
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import SHOPPER, ShopperProfile, Store, utcnow
from ..models.waves import ACCEPTED, ASSIGNED, IN_PROGRESS, PLANNED, RETURNED, Visit
from ..permissions import roles_required
from ..services.checklists.versions import scoring_checklist
from ..services.core import calendar
from ..services.core.links import external_url, site_host
from ..services.visits import form as visit_form
from ..services.waves import assignments
from ..services.waves.scheduling import exclusion_reasons, shopboard
from .transaction import transaction

bp = Blueprint("my_visits", __name__, url_prefix="/my")

# Visits that still ask something of the shopper; everything else is history.
TO_DO = (ASSIGNED, ACCEPTED, IN_PROGRESS, RETURNED)
BOARD_SIZE = 50
PAST_SHOWN = 30
REASON_MAX = 500

STATUS_LABELS = {
    "planned": _l("Open"),
    "assigned": _l("Waiting for your answer"),
    "accepted": _l("Accepted"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "in_review": _l("In review"),
    "returned": _l("Returned for changes"),
    "approved": _l("Approved"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed"),
}
SLOT_LABELS = {
    "opening": _l("First hour after opening"),
    "midday": _l("Midday"),
    "peak": _l("Peak hours"),
    "closing": _l("Last hour before closing"),
}


def store_time(visit: Visit, moment: datetime | None) -> str:
    """A stored UTC time in the store's time zone, in the reader's language."""
    if moment is None:
        return ""
    zone = ZoneInfo(visit.store.timezone)
    return format_datetime(moment.astimezone(zone), "short", locale=str(get_locale() or "en"))


def window_text(visit: Visit) -> str:
    """The visit's window in the store's own time zone, in the reader's language."""
    zone = ZoneInfo(visit.store.timezone)
    locale = str(get_locale() or "en")
    start, end = visit.window_start.astimezone(zone), visit.window_end.astimezone(zone)
    day = format_skeleton("yMMMEd", start, locale=locale)
    hours = [format_time(moment, "short", locale=locale) for moment in (start, end)]
    return f"{day} · {hours[0]}–{hours[1]}"


def map_url(store: Store) -> str:
    """A plain link that opens the store in a map (Amap, which phones in China have)."""
    if store.latitude is not None and store.longitude is not None:
        query = {
            "position": f"{store.longitude},{store.latitude}",
            "name": store.name,
            "coordinate": "wgs84",
            "callnative": "1",
        }
        return "https://uri.amap.com/marker?" + urlencode(query, quote_via=quote)
    query = {"keyword": store.address or store.name, "city": store.city}
    return "https://uri.amap.com/search?" + urlencode(query, quote_via=quote)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "window_text": window_text,
        "map_url": map_url,
        "status_label": lambda s: STATUS_LABELS.get(s, s),
        "slot_label": lambda s: SLOT_LABELS.get(s, s),
        "money": format_currency,
        "format_decimal": format_decimal,
    }


def _me() -> ShopperProfile:
    profile = current_user.shopper
    if profile is None:
        abort(404)
    return profile  # type: ignore[no-any-return]


# A visit's pages all show its store and wave and most read its checklist version: one
# query brings them (the version is the key of the cached checklist).
_VISIT_PAGE = (
    joinedload(Visit.store),
    joinedload(Visit.wave),
    joinedload(Visit.checklist_version),
)


def _own_visit_or_404(shopper: ShopperProfile, visit_id: int) -> Visit:
    visit = db.session.scalars(
        select(Visit)
        .options(*_VISIT_PAGE)
        .where(Visit.id == visit_id, Visit.shopper_id == shopper.id)
    ).first()
    if visit is None:
        abort(404)
    return visit


def my_visit_query(visit_id: int) -> Select[Visit]:
    """The signed-in shopper's visit, found through their profile in the same query:
    nothing for anyone else's visit, or for a user without a shopper profile."""
    return (
        select(Visit)
        .join(ShopperProfile, ShopperProfile.id == Visit.shopper_id)
        .options(*_VISIT_PAGE)
        .where(Visit.id == visit_id, ShopperProfile.user_id == current_user.id)
    )


def my_visit_or_404(visit_id: int) -> Visit:
    visit = db.session.scalars(my_visit_query(visit_id)).first()
    if visit is None:
        abort(404)
    return visit


@bp.route("/")
@roles_required(SHOPPER)
def index() -> ResponseReturnValue:
    shopper = _me()
    # Eager loads named here: every card shows the store and the wave's fee.
    visits = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store), selectinload(Visit.wave))
        .where(Visit.shopper_id == shopper.id)
        .order_by(Visit.window_start)
    ).all()
    upcoming = [v for v in visits if v.status in TO_DO]
    past = [v for v in reversed(visits) if v.status not in TO_DO][:PAST_SHOWN]
    # From BASE_URL, like every address a shopper keeps: never the request's Host.
    feed = external_url("my_visits.calendar", token=calendar.feed_token(shopper))
    return render_template(
        "my_visits/index.html",
        upcoming=upcoming,
        past=past,
        feed=feed,
        webcal="webcal://" + feed.split("://", 1)[1],
    )


@bp.route("/visits/<int:visit_id>")
@roles_required(SHOPPER)
def show(visit_id: int) -> ResponseReturnValue:
    """The briefing: where, when, the scenario, money, and the evidence to bring back."""
    visit = my_visit_or_404(visit_id)
    checklist = scoring_checklist(visit.checklist_version)
    photos = [q for q in checklist.questions() if q.type == "photo"]
    return render_template(
        "my_visits/show.html",
        visit=visit,
        wave=visit.wave,
        photos=photos,
        editable=visit.status in (ACCEPTED, IN_PROGRESS, RETURNED),
        notes=visit_form.return_notes(visit) if visit.status == RETURNED else [],
        store_time=store_time,
    )


@bp.route("/visits/<int:visit_id>/accept", methods=["POST"])
@roles_required(SHOPPER)
def accept(visit_id: int) -> ResponseReturnValue:
    shopper = _me()
    visit = _own_visit_or_404(shopper, visit_id)
    with transaction() as saved:
        assignments.accept(visit, shopper)
    if saved:
        flash(_("Visit accepted. Thank you!"), "success")
    return redirect(url_for(".index"))


@bp.route("/visits/<int:visit_id>/decline", methods=["POST"])
@roles_required(SHOPPER)
def decline(visit_id: int) -> ResponseReturnValue:
    shopper = _me()
    visit = _own_visit_or_404(shopper, visit_id)
    reason = request.form.get("reason", "").strip()[:REASON_MAX]
    with transaction() as saved:
        assignments.decline(visit, shopper, reason)
    if saved:
        flash(_("Visit declined. It goes back to the coordinator."), "success")
    return redirect(url_for(".index"))


@bp.route("/find")
@roles_required(SHOPPER)
def find() -> ResponseReturnValue:
    board = shopboard(_me())
    return render_template("my_visits/find.html", board=board[:BOARD_SIZE], more=len(board))


@bp.route("/find/<int:visit_id>/claim", methods=["POST"])
@roles_required(SHOPPER)
def claim(visit_id: int) -> ResponseReturnValue:
    shopper = _me()
    visit = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store), selectinload(Visit.wave))
        .where(Visit.id == visit_id)
    ).first()
    if visit is None or visit.wave.status != "open":
        abort(404)
    back = redirect(url_for(".find"))
    if visit.shopper_id == shopper.id:
        flash(_("This visit is already yours."), "info")
        return redirect(url_for(".show", visit_id=visit.id))
    if visit.shopper_id is not None:
        flash(_("Someone else has just taken this visit."), "error")
        return back
    if visit.status != PLANNED or visit.window_start <= utcnow():
        flash(_("This visit is no longer open."), "error")
        return back
    with transaction() as saved:
        taken = assignments.claim(visit, shopper, exclusion_reasons(visit, shopper))
    if not saved:
        return back
    flash(_("The visit is yours: %(store)s.", store=taken.store.name), "success")
    return redirect(url_for(".index"))


@bp.route("/calendar/reset", methods=["POST"])
@roles_required(SHOPPER)
def reset_calendar() -> ResponseReturnValue:
    shopper = _me()
    with transaction() as saved:
        calendar.reset_feed(shopper)
    if saved:
        flash(
            _(
                "Your calendar address has changed; the old one no longer works. "
                "Subscribe again with the new address below."
            ),
            "success",
        )
    return redirect(url_for(".index", _anchor="calendar"))


@bp.route("/calendar/<token>.ics", endpoint="calendar")
def calendar_feed(token: str) -> ResponseReturnValue:
    shopper = calendar.shopper_for_token(token)
    if shopper is None:
        abort(404)
    text = calendar.render_feed(
        calendar.feed_visits(shopper),
        name=_("My visits"),
        # Links and UIDs from BASE_URL: the same events whichever host was asked.
        host=site_host(),
        link=lambda v: external_url("my_visits.show", visit_id=v.id),
        now=utcnow(),
    )
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="my-visits.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    return response
