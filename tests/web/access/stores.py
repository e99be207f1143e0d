"""Stores: everyone but shoppers lists the stores in their scope; a store in North's
sub-area is seen by client X's agency staff (coordinator and reviewer), the North
regional manager (subtree) and its own store manager. Only agency staff edit and
import; export needs the export right."""

from flask import url_for

from . import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    REVIEWER_X,
    REVIEWER_Y,
    STORE_MANAGER,
    Route,
)

VIEWERS = frozenset(
    {ADMIN, COORDINATOR_X, COORDINATOR_Y, REVIEWER_X, REVIEWER_Y, REGIONAL_NORTH, REGIONAL_SOUTH}
    | {STORE_MANAGER}
)
OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X})

ACCESS = {
    "stores.index": Route(lambda c: url_for("stores.index"), VIEWERS),
    "stores.show": Route(
        lambda c: url_for("stores.show", store_id=c.store_north_area.id),
        frozenset({ADMIN, COORDINATOR_X, REVIEWER_X, REGIONAL_NORTH, STORE_MANAGER}),
    ),
    "stores.create": Route(
        lambda c: url_for("stores.create", client_id=c.client_x.id), OF_CLIENT_X, ("GET", "POST")
    ),
    "stores.edit": Route(
        lambda c: url_for("stores.edit", store_id=c.store_north_area.id),
        OF_CLIENT_X,
        ("GET", "POST"),
    ),
    "stores.import_file": Route(
        lambda c: url_for("stores.import_file", client_id=c.client_x.id),
        OF_CLIENT_X,
        ("GET", "POST"),
    ),
    "stores.export": Route(
        lambda c: url_for("stores.export", fmt="csv"),
        frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH}),
    ),
}
