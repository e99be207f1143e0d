"""Creating and changing clients, regions, stores, shoppers and users."""

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import (
    CLIENT_ROLES,
    SHOPPER,
    Client,
    Region,
    ShopperConflict,
    ShopperProfile,
    Store,
    User,
)
from ..core import normalise_email


def apply_fields(obj: Any, data: Mapping[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])


# --- clients and regions ---------------------------------------------------------

CLIENT_FIELDS = (
    "code", "name", "rotation_days", "action_threshold", "critical_action_days", "action_days",
    "alert_threshold", "appeal_days", "appeal_decision_days", "adjusted_scores", "active",
)  # fmt: skip


def save_client(client: Client | None, data: Mapping[str, Any]) -> Client:
    code = data["code"].strip().upper()
    clash = db.session.scalars(select(Client).where(Client.code == code)).first()
    if clash is not None and clash is not client:
        raise Conflict(_("Another client already uses the code %(code)s.", code=code))
    client = client or Client()
    apply_fields(client, {**data, "code": code}, CLIENT_FIELDS)
    db.session.add(client)
    return client


REGION_FIELDS = ("code", "name", "kind", "active")


def save_region(region: Region | None, client: Client, data: Mapping[str, Any]) -> Region:
    code = data["code"].strip().upper()
    clash = db.session.scalars(
        select(Region).where(Region.client_id == client.id, Region.code == code)
    ).first()
    if clash is not None and clash is not region:
        raise Conflict(
            _("Another region of this client already uses the code %(code)s.", code=code)
        )
    parent: Region | None = data.get("parent")
    if parent is not None and parent.client_id != client.id:
        raise DomainError(_("The parent region belongs to another client."))
    if region is not None and parent is not None and parent.path.startswith(region.path):
        raise DomainError(_("A region cannot be placed under itself or its own sub-regions."))
    region = region or Region(client=client)
    apply_fields(region, {**data, "code": code}, REGION_FIELDS)
    old_path = region.path
    region.parent = parent
    db.session.add(region)
    db.session.flush()  # the id is part of the path
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    if old_path and old_path != region.path:
        _move_subtree(old_path, region.path)
    return region


def _move_subtree(old_path: str, new_path: str) -> None:
    below = db.session.scalars(
        select(Region).where(Region.path.startswith(old_path, autoescape=True))
    )
    for node in below:
        if node.path != new_path:
            node.path = new_path + node.path[len(old_path) :]


def region_tree(client_id: int) -> list[Region]:
    """Every region of a client in tree order (parents before their children)."""
    regions = db.session.scalars(select(Region).where(Region.client_id == client_id))
    return sorted(regions, key=lambda r: [int(p) for p in r.path.strip("/").split("/") if p])


# --- stores ----------------------------------------------------------------------

STORE_FIELDS = (
    "code", "name", "address", "city", "latitude", "longitude", "timezone", "format",
    "ownership", "tier", "opening_hours", "target_female_pct", "target_age_bands",
    "manager_name", "manager_phone", "manager_email", "notes", "status",
)  # fmt: skip


def save_store(
    store: Store | None, client: Client, region: Region, data: Mapping[str, Any]
) -> Store:
    code = data["code"].strip()
    if region.client_id != client.id:
        raise DomainError(_("The region belongs to another client."))
    clash = db.session.scalars(
        select(Store).where(Store.client_id == client.id, Store.code == code)
    ).first()
    if clash is not None and clash is not store:
        raise Conflict(_("Another store of this client already uses the code %(code)s.", code=code))
    store = store or Store(client=client)
    apply_fields(store, {**data, "code": code}, STORE_FIELDS)
    store.region = region
    db.session.add(store)
    return store


# --- users and shoppers --------------------------------------------------------------

USER_FIELDS = ("name", "role", "active", "locale", "can_export")


def save_user(user: User | None, data: Mapping[str, Any]) -> User:
    email = normalise_email(data["email"])
    clash = db.session.scalars(select(User).where(User.email == email)).first()
    if clash is not None and clash is not user:
        raise Conflict(_("Another account already uses %(email)s.", email=email))
    user = user or User()
    user.email = email
    apply_fields(user, data, USER_FIELDS)
    if user.role in CLIENT_ROLES:
        if data.get("client") is None:
            raise DomainError(_("Regional and store managers belong to a client."))
        user.client = data["client"]
        user.regions = [r for r in data.get("regions", []) if r.client_id == user.client.id]
        user.stores = [s for s in data.get("stores", []) if s.client_id == user.client.id]
        user.clients = []
    else:
        user.client = None
        user.regions, user.stores = [], []
        user.clients = list(data.get("clients", []))
    db.session.add(user)
    return user


SHOPPER_FIELDS = (
    "gender", "birth_year", "home_city", "home_latitude", "home_longitude", "languages",
    "qualifications", "certification_level", "reliability", "active", "notes",
)  # fmt: skip


LIST_FIELDS = ("languages", "qualifications")


def save_shopper(profile: ShopperProfile | None, data: Mapping[str, Any]) -> ShopperProfile:
    """Creates or updates the shopper's account and profile together."""
    account = profile.user if profile else None
    if account is None:  # a shopper account made on the Users screen gets its profile now
        existing = db.session.scalars(
            select(User).where(User.email == normalise_email(data["email"]))
        ).first()
        if existing is not None and existing.role == SHOPPER and existing.shopper is None:
            account = existing
    user_data = {"email": data["email"], "name": data["name"], "role": SHOPPER}
    if account is None:
        user_data["locale"] = data.get("locale")
    user = save_user(account, user_data)
    profile = profile or ShopperProfile(user=user)
    db.session.add(profile)  # before anything can autoflush the user that points to it
    apply_fields(profile, data, SHOPPER_FIELDS)
    for name in LIST_FIELDS:  # a form without the field gives None: stored, it read as null
        if getattr(profile, name) is None:
            setattr(profile, name, [])
    set_conflicts(profile, data.get("conflict_clients", []), data.get("conflict_stores", []))
    return profile


def hidden_conflicts(
    profile: ShopperProfile | None, visible_client_ids: Iterable[int]
) -> tuple[list[Client], list[Store]]:
    """The profile's conflicts with clients (and their stores) the editor cannot see.
    An edit or an import by that editor keeps them: they were never shown, so leaving
    them out is not a decision to remove them."""
    if profile is None:
        return [], []
    visible = set(visible_client_ids)
    clients = [c.client for c in profile.conflicts if c.client and c.client_id not in visible]
    stores = [c.store for c in profile.conflicts if c.store and c.store.client_id not in visible]
    return clients, stores


def set_conflicts(
    profile: ShopperProfile, clients: Iterable[Client], stores: Iterable[Store]
) -> None:
    wanted = {("c", c.id): c for c in clients} | {("s", s.id): s for s in stores}
    kept = []
    for conflict in profile.conflicts:
        key = ("c", conflict.client_id) if conflict.client_id else ("s", conflict.store_id)
        if key in wanted:
            kept.append(conflict)
            wanted.pop(key)
    for (kind, _id), target in wanted.items():
        kept.append(
            ShopperConflict(client=target) if kind == "c" else ShopperConflict(store=target)
        )
    profile.conflicts = kept
