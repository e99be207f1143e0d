"""Stores and shoppers as rows in the same shape the importer reads."""

from collections.abc import Iterable, Iterator
from decimal import Decimal

from forms.parsing import WEEKDAYS, format_hours

from ...models import ShopperProfile, Store


def _text(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def store_rows(stores: Iterable[Store]) -> Iterator[list[object]]:
    for s in stores:
        yield [
            s.code, s.name, s.region.code, s.address, s.city, _text(s.latitude),
            _text(s.longitude), s.timezone, s.format, s.ownership, s.tier,
            *(format_hours(s.opening_hours.get(day)) for day in WEEKDAYS),
            _text(s.target_female_pct), "|".join(s.target_age_bands), s.manager_name,
            s.manager_phone, s.manager_email, s.status,
        ]  # fmt: skip


def shopper_rows(profiles: Iterable[ShopperProfile]) -> Iterator[list[object]]:
    """Languages and qualifications saved as JSON null by older versions read as none."""
    for p in profiles:
        clients = [c.client.code for c in p.conflicts if c.client is not None]
        stores = [f"{c.store.client.code}/{c.store.code}" for c in p.conflicts if c.store]
        yield [
            p.user.email, p.user.name, p.gender, _text(p.birth_year), p.home_city,
            _text(p.home_latitude), _text(p.home_longitude), "|".join(p.languages or []),
            "|".join(p.qualifications or []), p.certification_level, p.reliability,
            "yes" if p.active else "no", "|".join(clients), "|".join(stores),
        ]  # fmt: skip
