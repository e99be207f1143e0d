"""Store and shopper import through the two HTTP steps (upload and preview, then
confirm with the previewed payload), and export files that import back unchanged."""

import csv
import html
import io
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from auditapp.extensions import db
from auditapp.models import ShopperProfile, Store, User
from auditapp.services.org.imports import SHOPPER_COLUMNS, STORE_COLUMNS
from tests.conftest import csrf_token, login

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONDAYS_ONLY = {day: (["08:30", "22:00"] if day == "mon" else None) for day in DAYS}
FORMULA = '=HYPERLINK("http://evil.example","click")'


# --- files and the two steps -------------------------------------------------------------


def csv_bytes(columns, rows, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(columns, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_file(columns, rows, fmt):
    return csv_bytes(columns, rows) if fmt == "csv" else xlsx_bytes(columns, rows)


def settle():
    """Commit what the test built (the outer test transaction still rolls it back): a
    preview rolls the session back, as a request in production would, and must not
    take the test's own rows with it."""
    db.session.commit()


def upload(client, url, data, filename):
    settle()
    return client.post(
        url,
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def problems(page):
    assert "Nothing was imported" in page.text, page.text
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page.text)
    return [(int(line), column, html.unescape(message)) for line, column, message in cells]


def preview(page):
    """(created, updated, unchanged) from the preview, and the payload to confirm."""
    assert page.status_code == 200
    text = html.unescape(page.text)
    found = re.search(r"(\d+) will be created, (\d+) updated, (\d+) are unchanged", text)
    assert found, problems(page)
    payload = re.search(r'name="payload" value="([^"]+)"', page.text)
    return tuple(int(n) for n in found.groups()), payload.group(1)


def confirm(client, url, payload):
    settle()
    response = client.post(url, data={"csrf_token": csrf_token(client), "payload": payload})
    assert response.status_code == 302, response.text
    page = client.get(response.location)
    found = re.search(r"Imported: (\d+) created, (\d+) updated, (\d+) unchanged", page.text)
    assert found, page.text
    return tuple(int(n) for n in found.groups())


def import_file(client, url, data, filename):
    """Both steps; returns the preview's counts and the confirmation's."""
    counts, payload = preview(upload(client, url, data, filename))
    return counts, confirm(client, url, payload)


def store_count(client_):
    return db.session.scalar(select(func.count(Store.id)).where(Store.client_id == client_.id))


# --- the organisation the files are for ----------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin")


@pytest.fixture
def acme(make_client, make_region):
    acme = make_client("ACME", name="Acme")
    north = make_region(acme, "NORTH")
    make_region(acme, "NAREA", parent=north, kind="area")
    make_region(acme, "SOUTH")
    return acme


@pytest.fixture
def other(make_client, make_region, make_store):
    other = make_client("OTHER", name="Other brand")
    make_store(other, make_region(other, "WEST"), "S001")
    return other


def good_store_rows(n=100):
    rows = []
    for i in range(1, n + 1):
        row = {
            "code": f"S{i:03d}",
            "name": f"Store {i} 门店",
            "region": ("north", "NAREA", "SOUTH")[i % 3],
            "address": f"{i} Nanjing Road",
            "city": "Shanghai",
            "latitude": "31.2304",
            "longitude": "121.4737",
            "timezone": "Asia/Shanghai",
            "format": "supermarket",
            "ownership": "franchise" if i % 2 else "direct",
            "tier": "abc"[i % 3],
            **dict.fromkeys(DAYS[:6], "09:00-21:00"),
            "sun": "closed",
            "target_female_pct": "60",
            "target_age_bands": "25-34|35-44",
            "manager_name": "Zhang",
            "manager_phone": "+86 21 5555 0000",
            "manager_email": f"m{i}@example.com",
            "status": "active",
        }
        rows.append(row)
    return rows


def with_five_mistakes(rows):
    rows = [dict(r) for r in rows]
    rows[9]["region"] = "WEST"  # line 11: a region of another client
    rows[19]["code"] = "S005"  # line 21: S005 is already on line 6
    rows[29]["latitude"] = "95"  # line 31
    rows[39]["mon"] = "25:00-21:00"  # line 41
    rows[49]["tier"] = "D"  # line 51
    return rows


# --- stores ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_store_import_reports_every_problem_then_imports_once(client, admin, acme, other, fmt):
    url = f"/stores/import/{acme.id}"
    login(client, admin)

    bad = upload(
        client, url, as_file(STORE_COLUMNS, with_five_mistakes(good_store_rows()), fmt), f"s.{fmt}"
    )
    assert bad.status_code == 400
    found = problems(bad)
    assert [(line, column) for line, column, _m in found] == [
        (11, "region"),
        (21, "code"),
        (31, "latitude"),
        (41, "mon"),
        (51, "tier"),
    ]
    assert "WEST" in found[0][2]
    assert "first on line 6" in found[1][2]
    assert 'name="payload"' not in bad.text
    assert store_count(acme) == 0

    good = as_file(STORE_COLUMNS, good_store_rows(), fmt)
    counts, payload = preview(upload(client, url, good, f"s.{fmt}"))
    assert counts == (100, 0, 0)
    assert store_count(acme) == 0  # a preview writes nothing
    assert confirm(client, url, payload) == (100, 0, 0)
    assert store_count(acme) == 100

    assert import_file(client, url, good, f"s.{fmt}") == ((0, 0, 100), (0, 0, 100))
    assert store_count(acme) == 100
    assert store_count(other) == 1


def test_imported_store_fields_are_parsed(client, admin, acme):
    login(client, admin)
    import_file(
        client, f"/stores/import/{acme.id}", csv_bytes(STORE_COLUMNS, good_store_rows(3)), "s.csv"
    )
    store = db.session.scalars(select(Store).where(Store.code == "S001")).one()
    assert store.region.code == "NAREA"
    assert store.tier == "B"
    assert store.latitude == Decimal("31.230400")
    assert store.opening_hours == {**{d: ["09:00", "21:00"] for d in DAYS[:6]}, "sun": None}
    assert store.target_age_bands == ["25-34", "35-44"]
    assert store.manager_phone == "+86 21 5555 0000"


def test_store_import_counts_changed_rows_as_updated(client, admin, acme):
    url = f"/stores/import/{acme.id}"
    login(client, admin)
    import_file(client, url, csv_bytes(STORE_COLUMNS, good_store_rows(10)), "s.csv")
    rows = good_store_rows(10)
    rows[2]["name"] = "Renamed"
    rows[3]["region"] = "NORTH"
    assert import_file(client, url, csv_bytes(STORE_COLUMNS, rows), "s.csv") == (
        (0, 2, 8),
        (0, 2, 8),
    )
    assert db.session.scalars(select(Store.name).where(Store.code == "S003")).one() == "Renamed"


def test_a_tampered_confirmation_is_checked_again_and_writes_nothing(client, admin, acme):
    import base64

    url = f"/stores/import/{acme.id}"
    login(client, admin)
    bad = csv_bytes(STORE_COLUMNS, with_five_mistakes(good_store_rows(60)))
    page = client.post(
        url, data={"csrf_token": csrf_token(client), "payload": base64.b64encode(bad).decode()}
    )
    assert page.status_code == 400
    assert len(problems(page)) == 5
    assert store_count(acme) == 0


def test_store_file_with_a_missing_or_unknown_column_is_refused(client, admin, acme):
    login(client, admin)
    data = b"code,name,colour\nS1,One,red\n"
    found = problems(upload(client, f"/stores/import/{acme.id}", data, "s.csv"))
    assert (1, "region", "The column is missing.") in found
    assert any(column == "colour" for _line, column, _m in found)


def field_error(page):
    """The message shown next to the upload field."""
    found = re.search(r'<p class="error" id="file-error">([^<]*)</p>', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def test_a_file_that_is_not_a_table_is_refused_at_the_upload_field(client, admin, acme):
    login(client, admin)
    page = upload(client, f"/stores/import/{acme.id}", b"PK\x03\x04 not really a zip", "s.xlsx")
    assert page.status_code == 400
    assert "not a readable XLSX workbook" in field_error(page)
    assert "Nothing was imported" not in page.text


def test_only_csv_and_xlsx_files_are_taken(client, admin, acme):
    login(client, admin)
    page = upload(client, f"/stores/import/{acme.id}", b"code,name\n", "s.txt")
    assert "Choose a .csv or .xlsx file." in page.text
    assert 'name="payload"' not in page.text


def test_gb18030_csv_with_chinese_names_imports(client, admin, acme):
    rows = good_store_rows(2)
    rows[0].update(name="南京路旗舰店", city="上海", address="南京东路100号", manager_name="张伟")
    data = csv_bytes(STORE_COLUMNS, rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    login(client, admin)
    assert import_file(client, f"/stores/import/{acme.id}", data, "stores.csv")[1] == (2, 0, 0)
    store = db.session.scalars(select(Store).where(Store.code == "S001")).one()
    assert (store.name, store.city, store.manager_name) == ("南京路旗舰店", "上海", "张伟")


# --- export, then import back ---------------------------------------------------------------


@pytest.fixture
def exported_stores(acme, make_store):
    north, south = acme.regions[0], acme.regions[2]
    make_store(acme, north, "F1", name=FORMULA, manager_name="@SUM(A1)", manager_phone="+44 20")
    make_store(
        acme,
        south,
        "W1",
        name="London 伦敦",
        latitude=Decimal("51.507400"),
        longitude=Decimal("-0.127600"),
        target_age_bands=["18-24"],
        target_female_pct=55,
    )
    make_store(acme, north, "C1", name="Mondays only", opening_hours=MONDAYS_ONLY)
    return acme


def export_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    if url.split("?")[0].endswith(".csv"):
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    return response.data, [dict(zip(header, row, strict=False)) for row in rows[1:]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_store_export_neutralises_formulas_and_imports_back_unchanged(
    client, admin, exported_stores, fmt
):
    acme = exported_stores
    login(client, admin)
    data, rows = export_rows(client, f"/stores/export.{fmt}?client={acme.id}")
    by_code = {row["code"]: row for row in rows}
    assert by_code["F1"]["name"] == "'" + FORMULA
    assert by_code["F1"]["manager_name"] == "'@SUM(A1)"
    assert by_code["W1"]["longitude"] == "-0.127600"
    assert by_code["W1"]["latitude"] == "51.507400"
    assert by_code["C1"]["tue"] == "closed"

    assert import_file(client, f"/stores/import/{acme.id}", data, f"export.{fmt}") == (
        (0, 0, 3),
        (0, 0, 3),
    )
    formula = db.session.scalars(select(Store).where(Store.code == "F1")).one()
    assert formula.name == FORMULA
    assert formula.manager_phone == "+44 20"
    london = db.session.scalars(select(Store).where(Store.code == "W1")).one()
    assert london.longitude == Decimal("-0.127600")


def test_xlsx_export_writes_the_formula_as_text(client, admin, exported_stores):
    login(client, admin)
    response = client.get(f"/stores/export.xlsx?client={exported_stores.id}")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=2)]
    formula = next(cell for cell in names if "HYPERLINK" in str(cell.value))
    assert formula.data_type == "s"
    assert formula.value.startswith("'=")


# --- shoppers --------------------------------------------------------------------------------


@pytest.fixture
def shop_org(acme, make_store, make_client, make_region):
    make_store(acme, acme.regions[0], "S1")
    other = make_client("OTHER")
    make_store(other, make_region(other, "R"), "S1")  # the same store code, another client
    return acme, other


def shopper_rows():
    return [
        {
            "email": "Li.Wei@Example.com",
            "name": "Li Wei 李伟",
            "gender": "female",
            "birth_year": "1990",
            "home_city": "Shanghai",
            "home_latitude": "31.2304",
            "home_longitude": "121.4737",
            "languages": "zh|en",
            "qualifications": "banking",
            "certification_level": "2",
            "reliability": "85",
            "active": "yes",
            "conflict_clients": "acme",
            "conflict_stores": "",
        },
        {
            "email": "wang@example.com",
            "name": "Wang Fang",
            "gender": "male",
            "birth_year": "",
            "home_city": "London",
            "home_latitude": "51.5074",
            "home_longitude": "-0.1276",
            "languages": "zh",
            "qualifications": "",
            "certification_level": "",
            "reliability": "",
            "active": "no",
            "conflict_clients": "",
            "conflict_stores": "ACME/S1|OTHER/S1",
        },
    ]


def test_shopper_import_with_conflicts_and_reimport_unchanged(client, admin, shop_org):
    acme, other = shop_org
    login(client, admin)
    data = csv_bytes(SHOPPER_COLUMNS, shopper_rows())
    assert import_file(client, "/shoppers/import", data, "shoppers.csv") == (
        (2, 0, 0),
        (2, 0, 0),
    )
    li = db.session.scalars(
        select(ShopperProfile).join(ShopperProfile.user).where(User.email == "li.wei@example.com")
    ).one()
    assert [c.client_id for c in li.conflicts] == [acme.id]
    assert (li.languages, li.certification_level, li.reliability) == (["zh", "en"], 2, 85)
    wang = db.session.scalars(
        select(ShopperProfile).join(ShopperProfile.user).where(User.email == "wang@example.com")
    ).one()
    assert sorted(c.store.client.code for c in wang.conflicts) == ["ACME", "OTHER"]
    assert (wang.active, wang.certification_level, wang.reliability) == (False, 1, 80)
    assert wang.user.role == "shopper"

    assert import_file(client, "/shoppers/import", data, "shoppers.csv") == (
        (0, 0, 2),
        (0, 0, 2),
    )
    rows = shopper_rows()
    rows[1]["conflict_stores"] = "ACME/S1"
    assert preview(upload(client, "/shoppers/import", csv_bytes(SHOPPER_COLUMNS, rows), "s.csv"))[
        0
    ] == (0, 1, 1)


def test_shopper_row_with_a_staff_email_is_refused(client, admin, shop_org, make_user):
    make_user("coord@example.com", "coordinator")
    rows = [*shopper_rows(), {**shopper_rows()[0], "email": "COORD@example.com", "name": "C"}]
    login(client, admin)
    page = upload(client, "/shoppers/import", csv_bytes(SHOPPER_COLUMNS, rows), "s.csv")
    found = problems(page)
    assert [(line, column) for line, column, _m in found] == [(4, "email")]
    assert "not a shopper" in found[0][2]
    assert db.session.scalar(select(func.count(ShopperProfile.id))) == 0
    coordinator = db.session.scalars(select(User).where(User.email == "coord@example.com")).one()
    assert coordinator.role == "coordinator"


def test_shopper_conflicts_must_name_known_stores_and_visible_clients(client, shop_org, make_user):
    acme, other = shop_org
    coordinator = make_user("coord@example.com", "coordinator", clients=[acme])
    rows = shopper_rows()
    rows[0]["conflict_clients"] = "OTHER"  # not one of the coordinator's clients
    rows[1]["conflict_stores"] = "ACME/NOPE"
    login(client, coordinator)
    found = problems(upload(client, "/shoppers/import", csv_bytes(SHOPPER_COLUMNS, rows), "s.csv"))
    assert [(line, column) for line, column, _m in found] == [
        (2, "conflict_clients"),
        (3, "conflict_stores"),
    ]


def test_a_coordinators_import_keeps_conflicts_with_clients_they_cannot_see(
    client, shop_org, make_user, make_shopper
):
    acme, other = shop_org
    other_store = db.session.scalars(select(Store).where(Store.client_id == other.id)).one()
    li = make_shopper(
        "li.wei@example.com", name="Li Wei", conflict_clients=[other], conflict_stores=[other_store]
    )
    coordinator = make_user("coord@example.com", "coordinator", clients=[acme])
    rows = shopper_rows()[:1]  # names only an ACME conflict: OTHER is not theirs to see
    login(client, coordinator)
    import_file(client, "/shoppers/import", csv_bytes(SHOPPER_COLUMNS, rows), "s.csv")
    db.session.refresh(li)
    kept = {(c.client_id, c.store_id) for c in li.conflicts}
    assert kept == {(other.id, None), (None, other_store.id), (acme.id, None)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_shopper_export_imports_back_unchanged(client, admin, shop_org, make_shopper, fmt):
    acme, other = shop_org
    stores = db.session.scalars(select(Store).where(Store.code == "S1")).all()
    make_shopper(
        "li@example.com", name="=1+1", languages=["zh", "en"], home_longitude=Decimal("-3.5"),
        conflict_clients=[acme], conflict_stores=stores, birth_year=1990, active=False,
    )  # fmt: skip
    make_shopper("plain@example.com", name="Plain", qualifications=["banking", "retail"])
    login(client, admin)
    data, rows = export_rows(client, f"/shoppers/export.{fmt}")
    li = next(row for row in rows if row["email"] == "li@example.com")
    assert li["name"] == "'=1+1"
    assert li["home_longitude"] == "-3.500000"
    assert set(li["conflict_stores"].split("|")) == {"ACME/S1", "OTHER/S1"}
    assert import_file(client, "/shoppers/import", data, f"shoppers.{fmt}") == (
        (0, 0, 2),
        (0, 0, 2),
    )


def test_shopper_import_gives_a_profile_to_a_shopper_account_without_one(
    client, admin, shop_org, make_user
):
    account = make_user("li.wei@example.com", "shopper", name="Invited earlier")
    login(client, admin)
    data = csv_bytes(SHOPPER_COLUMNS, shopper_rows()[:1])
    assert import_file(client, "/shoppers/import", data, "shoppers.csv") == (
        (1, 0, 0),
        (1, 0, 0),
    )
    db.session.refresh(account)
    assert account.shopper is not None
    assert account.name == "Li Wei 李伟"
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "shopper")) == 1


def test_the_confirm_step_accepts_the_largest_file_the_preview_accepts(app):
    # The previewed file travels back base64-encoded; the form limit must allow it.
    largest_payload = app.config["IMPORT_MAX_BYTES"] * 4 // 3 + 4096
    assert app.config["MAX_FORM_MEMORY_SIZE"] >= largest_payload
