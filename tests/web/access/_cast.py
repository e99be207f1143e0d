"""The named cast the permission tests sign in as, and the objects they reach for.

Client X has regions North (with a sub-area) and South, each with stores; client Y
has its own region and store. Export rights: admin, coordinator X and regional
manager North may export; the others may not.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditapp.models import Client, Region, ShopperProfile, Store, User

from . import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    REVIEWER_X,
    REVIEWER_Y,
    SHOPPER_A,
    SHOPPER_B,
    STORE_MANAGER,
)


@dataclass
class Cast:
    users: dict[str, User]
    client_x: Client
    client_y: Client
    north: Region
    north_area: Region
    south: Region
    region_y: Region
    store_north: Store  # directly in North
    store_north_area: Store  # in North's sub-area; the store manager's store
    store_south: Store
    store_y: Store
    shopper_a: ShopperProfile
    shopper_b: ShopperProfile


def build_cast(
    make_client: Callable[..., Client],
    make_region: Callable[..., Region],
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
    make_shopper: Callable[..., ShopperProfile],
) -> Cast:
    client_x = make_client("X", name="Client X")
    client_y = make_client("Y", name="Client Y")
    north = make_region(client_x, "NORTH", name="North")
    north_area = make_region(client_x, "NAREA", parent=north, name="North area", kind="area")
    south = make_region(client_x, "SOUTH", name="South")
    region_y = make_region(client_y, "YREG", name="Y region")
    store_north = make_store(client_x, north, "XN1", name="North one")
    store_north_area = make_store(client_x, north_area, "XNA1", name="North area one")
    store_south = make_store(client_x, south, "XS1", name="South one")
    store_y = make_store(client_y, region_y, "Y1", name="Y one")

    def user(name: str, role: str, **kw: Any) -> User:
        return make_user(f"{name}@example.com", role, **kw)

    shopper_a = make_shopper("shopper.a@example.com", name="Shopper A")
    shopper_b = make_shopper("shopper.b@example.com", name="Shopper B")
    users = {
        ADMIN: user("admin", "admin"),
        COORDINATOR_X: user("coord.x", "coordinator", clients=[client_x], can_export=True),
        COORDINATOR_Y: user("coord.y", "coordinator", clients=[client_y]),
        REVIEWER_X: user("rev.x", "reviewer", clients=[client_x]),
        REVIEWER_Y: user("rev.y", "reviewer", clients=[client_y]),
        SHOPPER_A: shopper_a.user,
        SHOPPER_B: shopper_b.user,
        REGIONAL_NORTH: user(
            "rm.north", "regional_manager", client=client_x, regions=[north], can_export=True
        ),
        REGIONAL_SOUTH: user("rm.south", "regional_manager", client=client_x, regions=[south]),
        STORE_MANAGER: user(
            "sm.north", "store_manager", client=client_x, stores=[store_north_area]
        ),
    }
    return Cast(
        users=users,
        client_x=client_x,
        client_y=client_y,
        north=north,
        north_area=north_area,
        south=south,
        region_y=region_y,
        store_north=store_north,
        store_north_area=store_north_area,
        store_south=store_south,
        store_y=store_y,
        shopper_a=shopper_a,
        shopper_b=shopper_b,
    )
