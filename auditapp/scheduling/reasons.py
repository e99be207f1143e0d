"""Stable reason codes and their plain-English sentences.

The engine returns codes plus parameters; these templates are the English fallback.
The web layer can translate by code later (the parameters are plain values), which
keeps the engine free of Flask and Babel.
"""

from __future__ import annotations

from collections.abc import Mapping

# Hard rules in the order explain() checks and reports them; ties between equally
# common blocking rules are broken by this order too.
CODES: tuple[str, ...] = (
    "inactive",
    "conflict_client",
    "conflict_store",
    "rotation",
    "same_store_in_wave",
    "level",
    "distance",
    "unavailable",
    "capacity_day",
    "capacity_week",
    "overlap",
)
# Rules that depend on what else the shopper is doing, not on who they are.
BUSY_CODES: tuple[str, ...] = ("capacity_day", "capacity_week", "overlap", "same_store_in_wave")

_SHOPPER: dict[str, str] = {
    "inactive": "the shopper is not active",
    "conflict_client": "the shopper has a conflict of interest with client {client_id}",
    "conflict_store": "the shopper has a conflict of interest with store {store_id}",
    "rotation": (
        "the shopper shopped this store on {last_visit}, {days_apart} days from this visit; "
        "the client's rotation needs {rotation_days} days"
    ),
    "same_store_in_wave": "the shopper already has a visit to this store in this wave",
    "level": "the visit needs level {required_level}; the shopper is level {level}",
    "distance": "the store is {distance_km} km from the shopper's home; their limit is {max_km} km",
    "unavailable": "the shopper is not available on {day}",
    "capacity_day": "the shopper already has {booked} visits on {day}; the daily limit is {limit}",
    "capacity_week": (
        "the shopper already has {booked} visits in week {week}; the weekly limit is {limit}"
    ),
    "overlap": "the shopper is already booked from {other_start} to {other_end}",
}

# The same rules, said of many shoppers at once (for unfilled visits).
_SHORT: dict[str, str] = {
    "inactive": "not active",
    "conflict_client": "conflict of interest with the client",
    "conflict_store": "conflict of interest with the store",
    "rotation": "shopped this store too recently",
    "same_store_in_wave": "already visit this store in this wave",
    "level": "qualification level too low",
    "distance": "too far from home",
    "unavailable": "not available that day",
    "capacity_day": "daily limit reached",
    "capacity_week": "weekly limit reached",
    "overlap": "booked at the same time",
    "no_candidates": "no shoppers were offered",
}


def short(code: str) -> str:
    return _SHORT.get(code, code)


def describe(code: str, params: Mapping[str, object]) -> str:
    """The English sentence for a reason; unknown codes come back as the bare code.

    Three shapes, told apart by their parameters: one shopper's reason (explain), a
    visit nobody may do (``excluded``/``total``) and a visit whose eligible shoppers
    were all busy (``eligible``/``count``).
    """
    if code == "no_candidates":
        return "No shoppers were offered for this visit."
    if "eligible" in params:
        return (
            "All {eligible} eligible shoppers were already fully booked; "
            "most often: {rule} ({count} of {eligible})."
        ).format(rule=short(code), **params)
    if "total" in params:
        return (
            "No shopper may do this visit; most often: {rule} ({count} of {total} shoppers)."
        ).format(rule=short(code), **params)
    template = _SHOPPER.get(code)
    if template is None:
        return code
    try:
        return template.format(**params)
    except KeyError:
        return short(code)
