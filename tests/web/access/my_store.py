"""The store manager's view: only store managers, and only their own store's published
visits. The visit is the one the appeals matrix makes (access/appeals.py): an approved
visit of client X's published wave at the store manager's store."""

from flask import url_for

from . import STORE_MANAGER, Route
from .appeals import _objects

ACCESS = {
    "my_store.index": Route(lambda c: url_for("my_store.index"), frozenset({STORE_MANAGER})),
    "my_store.store": Route(
        lambda c: url_for("my_store.store", store_id=_objects(c).visit.store_id),
        frozenset({STORE_MANAGER}),
    ),
    "my_store.visit": Route(
        lambda c: url_for("my_store.visit", visit_id=_objects(c).visit.id),
        frozenset({STORE_MANAGER}),
    ),
}
