"""Clients and region trees: admins everywhere, coordinators only for their clients;
only admins create clients. Client users and shoppers never see these screens."""

from flask import url_for

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, Route

AGENCY = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y})
OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X})

ACCESS = {
    "clients.index": Route(lambda c: url_for("clients.index"), AGENCY),
    "clients.create": Route(
        lambda c: url_for("clients.create"), frozenset({ADMIN}), ("GET", "POST")
    ),
    "clients.show": Route(lambda c: url_for("clients.show", client_id=c.client_x.id), OF_CLIENT_X),
    "clients.edit": Route(
        lambda c: url_for("clients.edit", client_id=c.client_x.id), OF_CLIENT_X, ("GET", "POST")
    ),
    "clients.create_region": Route(
        lambda c: url_for("clients.create_region", client_id=c.client_x.id),
        OF_CLIENT_X,
        ("GET", "POST"),
    ),
    "clients.edit_region": Route(
        lambda c: url_for("clients.edit_region", region_id=c.north.id),
        OF_CLIENT_X,
        ("GET", "POST"),
    ),
}
