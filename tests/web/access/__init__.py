"""Who may open each route, one module per blueprint.

Every module in this package whose name does not start with an underscore exposes
ACCESS: a mapping from endpoint to Route. The permission matrix test
(tests/web/core/test_permissions.py) loads them all, so a new area adds its own module
(say access/checklists.py) and nothing else; a route that no module classifies
makes the matrix test fail.
"""

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The cast: one name per person the matrix signs in as (see _cast.py).
ANONYMOUS = "anonymous"
ADMIN = "admin"
COORDINATOR_X = "coordinator_x"
COORDINATOR_Y = "coordinator_y"
REVIEWER_X = "reviewer_x"
REVIEWER_Y = "reviewer_y"
SHOPPER_A = "shopper_a"
SHOPPER_B = "shopper_b"
REGIONAL_NORTH = "regional_north"
REGIONAL_SOUTH = "regional_south"
STORE_MANAGER = "store_manager_north"

CAST = (
    ANONYMOUS,
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REVIEWER_X,
    REVIEWER_Y,
    SHOPPER_A,
    SHOPPER_B,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    STORE_MANAGER,
)
EVERYONE = frozenset(CAST)
SIGNED_IN = EVERYONE - {ANONYMOUS}


@dataclass(frozen=True)
class Route:
    """How to reach one endpoint and who may.

    url: builds the path from the cast (called inside a request context, so
        url_for works). methods: what the matrix sends; GET is checked for page
        access, POST with a valid CSRF token and the fields from `form`.
    allowed: the cast members who get the page. Everyone else who is signed in
        gets `denied_status`; anonymous visitors are sent to the sign-in page.
    """

    url: Callable[[Any], str]
    allowed: frozenset[str]
    methods: tuple[str, ...] = ("GET",)
    form: Callable[[Any], Mapping[str, str]] = field(default=lambda _cast: {})
    denied_status: int = 404


def load_access() -> dict[str, Route]:
    """Every classified endpoint, from every module of this package."""
    found: dict[str, Route] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for endpoint, route in module.ACCESS.items():
            if endpoint in found:
                raise AssertionError(f"{endpoint} is classified twice (again in {info.name})")
            found[endpoint] = route
    return found
