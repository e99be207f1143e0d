"""Blueprints, one per area, and the navigation each role sees."""

from importlib import import_module
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models import ADMIN, COORDINATOR, REGIONAL_MANAGER, REVIEWER, SHOPPER, STORE_MANAGER
from . import downloads, params

# (endpoint, label, roles). Later areas add their entries here.
NAVIGATION = [
    ("main.home", _l("Home"), None),
    ("clients.index", _l("Clients"), (ADMIN, COORDINATOR)),
    ("stores.index", _l("Stores"), (ADMIN, COORDINATOR, REVIEWER, REGIONAL_MANAGER, STORE_MANAGER)),
    ("shoppers.index", _l("Shoppers"), (ADMIN, COORDINATOR)),
    ("shoppers.calibration", _l("Shopper calibration"), (REVIEWER,)),  # others: via Shoppers
    ("checklists.index", _l("Checklists"), (ADMIN, COORDINATOR)),
    ("waves.index", _l("Waves"), (ADMIN, COORDINATOR)),
    ("review.queue", _l("Review"), (ADMIN, COORDINATOR, REVIEWER)),
    ("payments.index", _l("Payments"), (ADMIN, COORDINATOR)),
    ("my_store.index", _l("My store"), (STORE_MANAGER,)),
    ("reports.index", _l("Reports"), (ADMIN, COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER)),
    ("actions.index", _l("Actions"), (ADMIN, COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER)),
    ("appeals.index", _l("Appeals"), (ADMIN, COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER)),
    ("results.exports", _l("Exports"), (ADMIN, COORDINATOR, REGIONAL_MANAGER)),
    ("users.index", _l("Users"), (ADMIN,)),
    ("users.outbox", _l("Outbox"), (ADMIN,)),
    ("my_visits.index", _l("My visits"), (SHOPPER,)),
    ("my_visits.find", _l("Find visits"), (SHOPPER,)),
    ("payments.earnings", _l("Earnings"), (SHOPPER,)),
]


# One blueprint per area, each in the module of that name.
AREAS = (
    "account", "actions", "alerts", "appeals", "auth", "checklists", "clients", "evidence",
    "main", "my_store", "my_visits", "offline", "payments", "reports", "results", "review",
    "shoppers", "stores", "users", "visit_form", "waves",
)  # fmt: skip


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths are followed, so a crafted link cannot send users away."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target:
        return fallback
    return target


def init_app(app: Flask) -> None:
    params.init_app(app)  # first: the rules below use its bounded `int`
    downloads.init_app(app)
    for area in AREAS:
        app.register_blueprint(import_module(f"{__name__}.{area}").bp)

    @app.context_processor
    def _navigation() -> dict[str, object]:
        def navigation() -> list[dict[str, object]]:
            if not current_user.is_authenticated:
                return []
            items = []
            for endpoint, label, roles in NAVIGATION:
                if roles is None or current_user.role in roles:
                    items.append(
                        {
                            "url": url_for(endpoint),
                            "label": label,
                            "active": request.endpoint == endpoint,
                        }
                    )
            return items

        return {"navigation": navigation}
