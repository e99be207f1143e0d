"""In-app notifications and each user's alert preferences.

Rules decided here:

- A user reads only their own notifications: another user's is not found (404).
- Opening a notification from the list (a small POST form, so it works without
  JavaScript and carries the CSRF token) marks it read and follows its link (a path
  inside the app). A GET of the same address only follows the link: a link preview
  or prefetch must not change anything. "Mark all read" is a POST too. Unread ones
  are marked on the list.
- The preferences page offers the kinds the user's role can receive
  (services/alerts.ROLE_KINDS), each at once, in the daily digest or in the app only.
- The unread count in the top bar is one indexed COUNT per page, for signed-in users
  only, and only when the page shows it.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models.alerts import DELIVERIES, Notification
from ..services.follow_up import alerts
from . import safe_next
from .params import page_arg
from .transaction import transaction

bp = Blueprint("alerts", __name__)


@bp.app_context_processor
def _unread() -> dict[str, object]:
    def unread_alerts() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_alerts" not in g:
            g.unread_alerts = alerts.unread_count(current_user)
        return int(g.unread_alerts)

    def receives_alerts() -> bool:
        return current_user.is_authenticated and bool(alerts.kinds_for(current_user))

    return {"unread_alerts": unread_alerts, "receives_alerts": receives_alerts}


@bp.route("/notifications")
@login_required
def index() -> ResponseReturnValue:
    unread_only = request.args.get("show") == "unread"
    query = select(Notification).where(Notification.user_id == current_user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    page = db.paginate(
        query.order_by(Notification.id.desc()),
        page=page_arg(),
        per_page=int(current_app.config["PER_PAGE"]),
        error_out=False,
    )
    return render_template(
        "alerts/index.html",
        page=page,
        unread_only=unread_only,
        labels=alerts.KIND_LABELS,
        unread=alerts.unread_count(current_user),
    )


@bp.route("/notifications/<int:notification_id>", methods=["GET", "POST"])
@login_required
def show(notification_id: int) -> ResponseReturnValue:
    notification = db.session.scalars(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == current_user.id
        )
    ).first()
    if notification is None:
        abort(404)
    if request.method == "POST":
        with transaction():
            alerts.mark_read(notification)
    return redirect(safe_next(notification.link, url_for("alerts.index")))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all() -> ResponseReturnValue:
    with transaction() as saved:
        marked = alerts.mark_all_read(current_user)
    if saved and marked:
        flash(_("All alerts are marked read."), "success")
    return redirect(url_for("alerts.index"))


@bp.route("/account/alerts", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    chosen = alerts.preferences(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        wanted = {kind: request.form.get(kind) or chosen[kind] for kind in chosen}
        with transaction(show=False) as saved:  # shown beside the kind refused
            alerts.save_preferences(current_user, wanted)
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("alerts.preferences"))
        if isinstance(saved.error, alerts.InvalidPreference):
            errors[saved.error.kind] = saved.message
        chosen = wanted
    return render_template(
        "alerts/preferences.html",
        chosen=chosen,
        labels=alerts.KIND_LABELS,
        deliveries=[(d, alerts.DELIVERY_LABELS[d]) for d in DELIVERIES],
        digest_hour=int(current_app.config["DIGEST_HOUR_UTC"]),
        errors=errors,
    ), (400 if errors else 200)
