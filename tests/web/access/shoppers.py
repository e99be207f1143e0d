"""The shopper pool belongs to the agency: admins and coordinators (of any client)
see and edit it. Shoppers do not open profiles here, not even their own.

Calibration (each shopper's leniency against their peers) is agency information too:
admins, coordinators and reviewers see it, each over their own clients' visits;
shoppers and client users never."""

from flask import url_for

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, REVIEWER_X, REVIEWER_Y, Route

AGENCY = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y})
CALIBRATION = AGENCY | {REVIEWER_X, REVIEWER_Y}

ACCESS = {
    "shoppers.index": Route(lambda c: url_for("shoppers.index"), AGENCY),
    "shoppers.show": Route(lambda c: url_for("shoppers.show", shopper_id=c.shopper_a.id), AGENCY),
    "shoppers.create": Route(lambda c: url_for("shoppers.create"), AGENCY, ("GET", "POST")),
    "shoppers.edit": Route(
        lambda c: url_for("shoppers.edit", shopper_id=c.shopper_a.id), AGENCY, ("GET", "POST")
    ),
    "shoppers.import_file": Route(
        lambda c: url_for("shoppers.import_file"), AGENCY, ("GET", "POST")
    ),
    # Revoking a shopper's calendar feed address is editing their profile.
    "shoppers.revoke_calendar": Route(
        lambda c: url_for("shoppers.revoke_calendar", shopper_id=c.shopper_a.id),
        AGENCY,
        ("POST",),
    ),
    "shoppers.calibration": Route(lambda c: url_for("shoppers.calibration"), CALIBRATION),
    "shoppers.export": Route(
        lambda c: url_for("shoppers.export", fmt="csv"), frozenset({ADMIN, COORDINATOR_X})
    ),
}
