"""Store and shopper import from CSV/XLSX: validate every row first, then write all
rows or none. Rows are matched on their natural key (store code within the client,
shopper e-mail), so importing the same file twice changes nothing."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select

from forms.org import SHOPPER_TEXT_LIMITS, STORE_TEXT_LIMITS
from forms.parsing import (
    WEEKDAYS,
    parse_bool,
    parse_hours,
    parse_int,
    parse_latitude,
    parse_list,
    parse_longitude,
)
from reports.tabular import TableError, read_table
from reports.workbooks import WorkbookRefused

from ...extensions import db
from ...models import (
    AGE_BANDS,
    GENDERS,
    OWNERSHIPS,
    SHOPPER,
    STORE_FORMATS,
    STORE_STATUSES,
    TIERS,
    Client,
    Region,
    ShopperProfile,
    Store,
    User,
)
from ..core import workbook_problem
from . import records

STORE_COLUMNS = (
    "code", "name", "region", "address", "city", "latitude", "longitude", "timezone",
    "format", "ownership", "tier", *WEEKDAYS, "target_female_pct", "target_age_bands",
    "manager_name", "manager_phone", "manager_email", "status",
)  # fmt: skip
SHOPPER_COLUMNS = (
    "email", "name", "gender", "birth_year", "home_city", "home_latitude", "home_longitude",
    "languages", "qualifications", "certification_level", "reliability", "active",
    "conflict_clients", "conflict_stores",
)  # fmt: skip


@dataclass
class RowProblem:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    file_problem: str | None = None  # the file as a whole cannot be read

    @property
    def ok(self) -> bool:
        return not self.problems and self.file_problem is None


class _Row:
    """Collects every problem of one row instead of stopping at the first."""

    def __init__(self, line: int, cells: Mapping[str, str], report: ImportReport):
        self.line, self.cells, self.report = line, cells, report
        self.values: dict[str, Any] = {}

    def take(self, column: str, parse: Callable[[str], Any], key: str | None = None) -> None:
        try:
            self.values[key or column] = parse(self.cells.get(column, ""))
        except ValueError as exc:
            self.problem(column, str(exc))

    def problem(self, column: str, message: str) -> None:
        self.report.problems.append(RowProblem(self.line, column, message))


def _choice(vocabulary: tuple[str, ...], default: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower() or default
        for known in vocabulary:
            if known.lower() == value:
                return known
        raise ValueError(_("Use one of: %(values)s.", values=", ".join(vocabulary)))

    return parse


def _text(limit: int, required: bool = False) -> Callable[[str], str]:
    """The stripped text, at most ``limit`` characters (the form's limit)."""

    def parse(text: str) -> str:
        value = text.strip()
        if required and not value:
            raise ValueError(_("This column must not be empty."))
        if len(value) > limit:
            raise ValueError(
                _(
                    "At most %(limit)d characters; this has %(n)d.",
                    limit=limit,
                    n=len(value),
                )
            )
        return value

    return parse


def _email(text: str, required: bool = True) -> str:
    if not text.strip():
        if required:
            raise ValueError(_("This column must not be empty."))
        return ""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError(_("%(value)s is not an e-mail address.", value=text)) from None


def _timezone(text: str) -> str:
    name = text.strip() or "Asia/Shanghai"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("Unknown time zone %(name)s.", name=name)) from None
    return name


def _age_bands(text: str) -> list[str]:
    bands = parse_list(text)
    unknown = [b for b in bands if b not in AGE_BANDS]
    if unknown:
        raise ValueError(_("Unknown age bands: %(bands)s.", bands=", ".join(unknown)))
    return bands


def _read(
    data: bytes, columns: tuple[str, ...], required: tuple[str, ...], report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    try:
        header, rows = read_table(data)
    except WorkbookRefused as error:
        report.file_problem = workbook_problem(error)
        return []
    except TableError:
        report.file_problem = _("This is not a readable CSV or XLSX file with a header row.")
        return []
    for column in required:
        if column not in header:
            report.problems.append(RowProblem(1, column, _("The column is missing.")))
    unknown = [h for h in header if h and h not in columns]
    if unknown:
        report.problems.append(
            RowProblem(
                1,
                ", ".join(_shortened(h) for h in unknown[:20])
                + (", …" if len(unknown) > 20 else ""),
                _("Unknown columns; expected: %(cols)s.", cols=", ".join(columns)),
            )
        )
    report.rows = len(rows)
    return [] if report.problems else rows


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(report: ImportReport, existing: Any, values: Mapping[str, Any]) -> None:
    if existing is None:
        report.created += 1
    elif any(getattr(existing, k) != v for k, v in values.items()):
        report.updated += 1
    else:
        report.unchanged += 1


def import_stores(client: Client, data: bytes, apply: bool) -> ImportReport:
    report = ImportReport()
    rows = _read(data, STORE_COLUMNS, ("code", "name", "region"), report)
    regions = {
        r.code: r for r in db.session.scalars(select(Region).where(Region.client_id == client.id))
    }
    stores = {
        s.code: s for s in db.session.scalars(select(Store).where(Store.client_id == client.id))
    }
    seen: dict[str, int] = {}
    parsed: list[tuple[Store | None, Region, dict[str, Any]]] = []
    for line, cells in rows:
        row = _Row(line, cells, report)
        for column, limit in STORE_TEXT_LIMITS.items():
            row.take(column, _text(limit, required=column in ("code", "name")))
        region = regions.get(cells.get("region", "").strip().upper())
        if region is None:
            row.problem("region", _("Unknown region code %(code)s.", code=cells.get("region", "")))
        row.take("latitude", parse_latitude)
        row.take("longitude", parse_longitude)
        row.take("timezone", _timezone)
        row.take("format", _choice(STORE_FORMATS, "specialty"))
        row.take("ownership", _choice(OWNERSHIPS, "direct"))
        row.take("tier", lambda t: _choice(TIERS, "B")(t.upper()))
        row.take("status", _choice(STORE_STATUSES, "active"))
        hours: dict[str, list[str] | None] = {}
        for day in WEEKDAYS:
            try:
                hours[day] = parse_hours(cells.get(day, ""))
            except ValueError as exc:
                row.problem(day, str(exc))
        row.values["opening_hours"] = hours
        row.take("target_female_pct", lambda t: parse_int(t, 0, 100, _("Female share")))
        row.take("target_age_bands", _age_bands)
        row.take("manager_email", lambda t: _email(t, required=False))
        code = row.values.get("code")
        if code:
            if code in seen:
                row.problem(
                    "code",
                    _(
                        "Duplicate code %(code)s (first on line %(line)d).",
                        code=code,
                        line=seen[code],
                    ),
                )
            seen.setdefault(code, line)
        if region is not None and code:
            parsed.append((stores.get(code), region, row.values))
    if report.problems:
        return report
    for existing, region, values in parsed:
        compare = {k: v for k, v in values.items() if k != "code"}
        _count(report, existing, {**compare, "region_id": region.id})
        if apply:
            records.save_store(existing, client, region, values)
    return report


def _conflict_clients(text: str, clients: Mapping[str, Client]) -> list[Client]:
    codes = [c.upper() for c in parse_list(text)]
    unknown = [c for c in codes if c not in clients]
    if unknown:
        raise ValueError(_("Unknown client codes: %(codes)s.", codes=", ".join(unknown)))
    return [clients[c] for c in codes]


def conflict_stores(text: str, clients: Mapping[str, Client]) -> list[Store]:
    """Stores are written CLIENT/STORE, e.g. ACME/S001, since codes repeat across clients."""
    found = []
    for item in parse_list(text):
        client_code, _sep, store_code = item.partition("/")
        client = clients.get(client_code.strip().upper())
        store = None
        if client is not None:
            store = db.session.scalars(
                select(Store).where(Store.client_id == client.id, Store.code == store_code.strip())
            ).first()
        if store is None:
            raise ValueError(_("Unknown store %(item)s (write CLIENT/STORE).", item=item))
        found.append(store)
    return found


def import_shoppers(clients: list[Client], data: bytes, apply: bool) -> ImportReport:
    """`clients` are those the importing user may see; conflicts may name only them."""
    report = ImportReport()
    rows = _read(data, SHOPPER_COLUMNS, ("email", "name"), report)
    by_code = {c.code: c for c in clients}
    seen: dict[str, int] = {}
    parsed: list[tuple[ShopperProfile | None, dict[str, Any]]] = []
    for line, cells in rows:
        row = _Row(line, cells, report)
        row.take("email", _email)
        row.take("name", _text(SHOPPER_TEXT_LIMITS["name"], required=True))
        row.take("gender", _choice(GENDERS, "undisclosed"))
        row.take("birth_year", lambda t: parse_int(t, 1900, 2100, _("Birth year")))
        row.take("home_city", _text(SHOPPER_TEXT_LIMITS["home_city"]))
        row.take("home_latitude", parse_latitude)
        row.take("home_longitude", parse_longitude)
        row.take("languages", parse_list)
        row.take("qualifications", parse_list)
        row.take(
            "certification_level", lambda t: parse_int(t or "1", 0, 5, _("Certification level"))
        )
        row.take("reliability", lambda t: parse_int(t or "80", 0, 100, _("Reliability")))
        row.take("active", parse_bool)
        row.take("conflict_clients", lambda t: _conflict_clients(t, by_code))
        row.take("conflict_stores", lambda t: conflict_stores(t, by_code))
        email = row.values.get("email")
        if not email:
            continue
        if email in seen:
            row.problem(
                "email",
                _(
                    "Duplicate e-mail %(email)s (first on line %(line)d).",
                    email=email,
                    line=seen[email],
                ),
            )
        seen.setdefault(email, line)
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None and user.role != SHOPPER:
            row.problem(
                "email", _("%(email)s belongs to an account that is not a shopper.", email=email)
            )
        parsed.append((user.shopper if user else None, row.values))
    if report.problems:
        return report
    for profile, values in parsed:
        hidden_clients, hidden_stores = records.hidden_conflicts(profile, (c.id for c in clients))
        values["conflict_clients"] = [*values["conflict_clients"], *hidden_clients]
        values["conflict_stores"] = [*values["conflict_stores"], *hidden_stores]
        _count_shopper(report, profile, values)
        if apply:
            records.save_shopper(profile, values)
    return report


def _count_shopper(
    report: ImportReport, profile: ShopperProfile | None, values: Mapping[str, Any]
) -> None:
    if profile is None:
        report.created += 1
        return
    plain = {k: v for k, v in values.items() if k in records.SHOPPER_FIELDS}
    conflicts = {("c", c.id) for c in values["conflict_clients"]} | {
        ("s", s.id) for s in values["conflict_stores"]
    }
    current = {("c", c.client_id) if c.client_id else ("s", c.store_id) for c in profile.conflicts}
    changed = profile.user.name != values["name"] or conflicts != current
    changed = changed or any(getattr(profile, k) != v for k, v in plain.items())
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1
