"""The starter library: ready-made bilingual checklists a coordinator copies and adapts.

Each starter is a SCORING.md §1 document in this package (``<key>.json``), written from
the service models in DOMAIN.md. Its English and Chinese titles come from the document;
the description shown beside it lives here, so it is translated with the rest of the UI.
"""

from functools import cache
from importlib import resources
from typing import Any

from flask_babel import lazy_gettext as _l

import scoring

_CATALOGUE: tuple[tuple[str, Any], ...] = (
    (
        "retail_visit",
        _l(
            "In-store retail visit: greeting, needs, recommendation, checkout, farewell,"
            " and the store's environment and display."
        ),
    ),
    (
        "restaurant_visit",
        _l("Restaurant visit: welcome and seating, ordering, food and service, bill, hygiene."),
    ),
    (
        "bank_branch_visit",
        _l(
            "Bank branch visit: reception and queueing, needs analysis, product advice,"
            " compliance disclosures, branch environment."
        ),
    ),
    (
        "phone_call",
        _l(
            "Phone mystery call: answered within a few rings, standard greeting, etiquette,"
            " correct information and the promised call-back."
        ),
    ),
    (
        "complaint_handling",
        _l(
            "Complaint-handling scenario: the first sentence defuses, no buck-passing,"
            " a concrete action and a proportionate goodwill gesture."
        ),
    ),
    (
        "in_home_service",
        _l(
            "In-home service visit: on time, service card, shoe covers and floor cloth,"
            " the repair explained, everything left clean."
        ),
    ),
)


def catalogue() -> tuple[tuple[str, Any], ...]:
    """(key, description) of every starter, in the order they are offered."""
    return _CATALOGUE


@cache
def _text(key: str) -> str:
    return resources.files(__name__).joinpath(f"{key}.json").read_text(encoding="utf-8")


def document(key: str) -> dict[str, Any]:
    """A fresh copy of the starter's document (non-integers as exact Decimals)."""
    result: dict[str, Any] = scoring.loads_exact(_text(key))
    return result
