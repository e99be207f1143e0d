"""Who may see what. Small predicates, and scope filters that every list query uses,
so an object outside the user's scope is simply not found (404)."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from .extensions import db, login_manager
from .models import (
    ADMIN,
    AGENCY_ROLES,
    CLIENT_ROLES,
    COORDINATOR,
    REGIONAL_MANAGER,
    SHOPPER,
    STORE_MANAGER,
    Checklist,
    ChecklistVersion,
    Client,
    Region,
    ShopperProfile,
    Store,
    User,
)
from .models.users import user_clients, user_regions, user_stores

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed-in users outside these roles get 404, as if the page did not exist."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# --- predicates ---------------------------------------------------------------


def is_admin(user: User) -> bool:
    return user.role == ADMIN


def manages_org(user: User) -> bool:
    """Coordinators and admins create and edit clients, regions, stores and shoppers."""
    return user.role in (ADMIN, COORDINATOR)


def can_export(user: User) -> bool:
    return user.role == ADMIN or (user.can_export and user.role != SHOPPER)


class EvidenceQuestion(Protocol):
    """A checklist question as a row (ChecklistQuestion) or as scoring.Question."""

    @property
    def type(self) -> str: ...

    @property
    def client_visible(self) -> bool: ...


class EvidenceVisit(Protocol):
    """The visit a file belongs to (a Visit row)."""

    @property
    def shopper_id(self) -> int | None: ...


def may_see_evidence(user: User, visit: EvidenceVisit, question: EvidenceQuestion | None) -> bool:
    """Whether ``user`` may see a file of ``visit`` that answers ``question`` (None: a
    receipt, a recording, or a photo of no question). The one rule for /evidence and
    for every page, PDF, ZIP and export built for someone: a shopper sees every file
    of their own visits and none of anyone else's; the agency (admins, coordinators,
    reviewers) sees every file; the client's managers only the photos of a photo
    question marked client-visible, because a photo can show the shopper or other
    customers. Which clients' and stores' visits the agency and the managers reach at
    all is their scope, which the caller's query applies (store_scope)."""
    if user.role == SHOPPER:
        return user.shopper is not None and visit.shopper_id == user.shopper.id
    if user.role in (ADMIN, *AGENCY_ROLES):
        return True
    return (
        user.role in CLIENT_ROLES
        and question is not None
        and question.type == "photo"
        and question.client_visible
    )


# --- scope filters -------------------------------------------------------------


def client_scope(user: User) -> ColumnElement[bool]:
    if user.role == ADMIN:
        return true()
    if user.role in AGENCY_ROLES:
        assigned = select(user_clients.c.client_id).where(user_clients.c.user_id == user.id)
        return Client.id.in_(assigned)
    if user.client_id is not None and user.role in (REGIONAL_MANAGER, STORE_MANAGER):
        return Client.id == user.client_id
    return false()


def _scoped_region_paths(user: User) -> list[str]:
    rows = db.session.scalars(
        select(Region.path).join(user_regions).where(user_regions.c.user_id == user.id)
    )
    return list(rows)


def region_scope(user: User) -> ColumnElement[bool]:
    if user.role == ADMIN:
        return true()
    if user.role in AGENCY_ROLES:
        assigned = select(user_clients.c.client_id).where(user_clients.c.user_id == user.id)
        return Region.client_id.in_(assigned)
    if user.role == REGIONAL_MANAGER:
        paths = _scoped_region_paths(user)
        return or_(false(), *(Region.path.startswith(p, autoescape=True) for p in paths))
    return false()


def store_scope(user: User) -> ColumnElement[bool]:
    if user.role == ADMIN:
        return true()
    if user.role in AGENCY_ROLES:
        assigned = select(user_clients.c.client_id).where(user_clients.c.user_id == user.id)
        return Store.client_id.in_(assigned)
    if user.role == REGIONAL_MANAGER:
        in_regions = select(Region.id).where(region_scope(user))
        direct = select(user_stores.c.store_id).where(user_stores.c.user_id == user.id)
        return or_(Store.region_id.in_(in_regions), Store.id.in_(direct))
    if user.role == STORE_MANAGER:
        direct = select(user_stores.c.store_id).where(user_stores.c.user_id == user.id)
        return Store.id.in_(direct)
    return false()


def shopper_scope(user: User) -> ColumnElement[bool]:
    """The shopper pool belongs to the agency: its coordinators and admins see it."""
    if user.role in (ADMIN, COORDINATOR):
        return true()
    if user.role == SHOPPER:
        return ShopperProfile.user_id == user.id
    return false()


def checklist_scope(user: User) -> ColumnElement[bool]:
    """Checklists are agency work: admins see all, coordinators and reviewers those of
    their assigned clients; nobody else sees any."""
    if user.role == ADMIN:
        return true()
    if user.role in AGENCY_ROLES:
        assigned = select(user_clients.c.client_id).where(user_clients.c.user_id == user.id)
        return Checklist.client_id.in_(assigned)
    return false()


# --- get-or-404 helpers --------------------------------------------------------


def get_client_or_404(user: User, client_id: int) -> Client:
    return _one_or_404(select(Client).where(Client.id == client_id, client_scope(user)))


def get_region_or_404(user: User, region_id: int) -> Region:
    return _one_or_404(select(Region).where(Region.id == region_id, region_scope(user)))


def get_store_or_404(user: User, store_id: int) -> Store:
    return _one_or_404(select(Store).where(Store.id == store_id, store_scope(user)))


def get_shopper_or_404(user: User, shopper_id: int) -> ShopperProfile:
    return _one_or_404(
        select(ShopperProfile).where(ShopperProfile.id == shopper_id, shopper_scope(user))
    )


def get_checklist_or_404(user: User, checklist_id: int) -> Checklist:
    return _one_or_404(select(Checklist).where(Checklist.id == checklist_id, checklist_scope(user)))


def get_version_or_404(user: User, version_id: int) -> ChecklistVersion:
    return _one_or_404(
        select(ChecklistVersion)
        .join(Checklist)
        .where(ChecklistVersion.id == version_id, checklist_scope(user))
    )


def get_user_or_404(user: User, user_id: int) -> User:
    if user.role != ADMIN:
        abort(404)
    return _one_or_404(select(User).where(User.id == user_id))


def _one_or_404(query: Select[T]) -> T:
    found = db.session.scalars(query).first()
    if found is None:
        abort(404)
    return found
