"""Hostile input, end to end: numbers that would become billion-digit integers, deeply
nested JSON and YAML, a document that is just ``null``, workbooks with formulas, DTDs
or entity bombs, over-large bodies and over-long texts. Each gets a clear 4xx at once,
its message next to the field it came in (nothing the user entered is lost), and never
a 500 or a hang: on the checklist import, the store import and the visit form's draft
and submit endpoints."""

import html
import io
import json
import re
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from auditapp.errors import DomainError
from auditapp.extensions import db
from auditapp.models import Checklist, Store
from auditapp.models.answers import VisitDraft
from auditapp.services.checklists import files as checklist_files
from auditapp.services.checklists.xlsx import QUESTIONS, SETTINGS
from auditapp.services.visits.form import MAX_DRAFT_BYTES, clean_draft_data
from forms.org import STORE_TEXT_LIMITS, StoreForm
from scoring import loads_exact
from tests.conftest import csrf_token, login
from tests.scoring.hostile_numbers import JSON_NUMBER, NUMBER_TEXT, outcome, quick
from tests.web.worlds.visit_form import build_world, url, valid_fields

REQUEST_LIMIT = 2.0  # seconds for a whole request (milliseconds normally; 30+ s before)


# --- files ----------------------------------------------------------------------------------


def workbook(sheets):
    """XLSX bytes with the given {sheet title: rows}."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_part(data, name, change):
    """The workbook with one of its XML parts changed, as an attacker would."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info, change(body) if info.filename == name else body)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
STORE_ROWS = [["code", "name", "region"], ["S1", "Marker store", "NORTH"]]


def with_entity(data):
    """A DTD whose internal entity the sheet uses (openpyxl would expand it)."""
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "from an entity">]>'
    return rewrite_part(data, SHEET, lambda b: dtd + b.replace(b"Marker store", b"&e;"))


def with_entity_bomb(data):
    """A "billion laughs": ten levels of entities, each ten of the one before."""
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    dtd = f'<?xml version="1.0"?><!DOCTYPE x [{entities}]>'.encode()
    return rewrite_part(data, SHEET, lambda b: dtd + b.replace(b"Marker store", b"&a9;"))


def with_utf16_dtd(data):
    """The same DTD, in UTF-16, where a byte search for <!DOCTYPE would not see it."""
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "hidden">]>'

    def change(body):
        return (text + body.decode().replace("Marker store", "&e;")).encode("utf-16")

    return rewrite_part(data, SHEET, change)


def field_error(page):
    """The message shown next to the upload field (the _forms.html field macro)."""
    found = re.search(r'<p class="error" id="file-error">(.*?)</p>', page.text, re.DOTALL)
    assert found, page.text
    return html.unescape(found.group(1))


# --- the checklist import ---------------------------------------------------------------------


@pytest.fixture
def coordinator(make_client, make_user):
    client = make_client("HOST")
    user = make_user("coord.hostile@example.com", "coordinator", clients=[client])
    db.session.commit()  # a refused request's rollback must not undo the set-up
    return client, user


def import_checklist(web, client_id, data, filename):
    return web.post(
        "/checklists/import",
        data={
            "csrf_token": csrf_token(web),
            "client_id": client_id,
            "title": "Kept title",
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def checklist_json(pass_mark):
    return ('{"title": "T", "scoring": {"pass_mark": ' + pass_mark + '}, "sections": []}').encode()


CHECKLIST_SHEETS = {
    SETTINGS: [["field", "value"], ["title", "Workbook audit"], ["pass_mark", "=40*2"]],
    QUESTIONS: [["section_key", "section_title", "key", "text", "type"],
                ["s", "S", "q", "Clean?", "yes_no"]],
}  # fmt: skip
YAML_BOMB = b'title: T\na: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n".encode()
    for i in range(8)
)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (checklist_json("1e999999999"), "c.json", "1e999999999 is written with an exponent"),
        (checklist_json("9" * 5000), "c.json", "has too many digits"),
        (b"[" * 100_000, "c.json", "nest more than 32 levels deep"),
        (b"title: " + b"[" * 100_000, "c.yaml", "nest more than 32 levels deep"),
        (b"title: T\nscoring: {pass_mark: " + b"9" * 5000 + b"}\n", "c.yaml", "too many digits"),
        (b"title: T\nscoring: {pass_mark: 1.0e+999999999}\n", "c.yaml", "with an exponent"),
        (YAML_BOMB, "c.yaml", "aliases (*name) are not allowed"),
        (b"null", "c.json", "does not contain a checklist"),
        (b"null", "c.yaml", "does not contain a checklist"),
        (workbook(CHECKLIST_SHEETS), "c.xlsx", "Cell Checklist!B3 holds a formula"),
        (
            rewrite_part(
                workbook(CHECKLIST_SHEETS),
                "xl/worksheets/sheet2.xml",
                lambda b: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "E">]>' + b,
            ),
            "c.xlsx",
            "The workbook contains XML that is not accepted",
        ),
    ],
)
def test_checklist_import_refuses_a_hostile_file_at_its_field(
    client, coordinator, data, filename, message
):
    client_, user = coordinator
    login(client, user)
    with quick(REQUEST_LIMIT):
        page = import_checklist(client, client_.id, data, filename)
    assert page.status_code == 400
    assert message in field_error(page)
    assert 'value="Kept title"' in page.text  # nothing the user entered is lost
    assert db.session.scalar(select(func.count()).select_from(Checklist)) == 0


def test_a_checklist_file_larger_than_its_limit_is_refused_unread(client, coordinator, monkeypatch):
    client_, user = coordinator
    login(client, user)
    monkeypatch.setattr(checklist_files, "MAX_TEXT_BYTES", 4096)  # the test client spools
    page = import_checklist(client, client_.id, b"title: T\n" + b"# padding\n" * 500, "c.yaml")
    assert page.status_code == 400
    assert "The file is larger than 4 KB" in field_error(page)


@settings(max_examples=60, deadline=None)
@given(JSON_NUMBER, st.sampled_from(["c.json", "c.yaml"]))
def test_checklist_documents_are_read_quickly_whatever_their_numbers(app, number, filename):
    text = (
        '{"title": "T", "scoring": {"pass_mark": ' + number + '}, "sections": [{"key": "s",'
        ' "title": "S", "weight": ' + number + ', "questions": [{"key": "q", "text": "Q",'
        ' "type": "number", "bands": [{"max": ' + number + ', "points": 1}]}]}]}'
    )  # JSON is YAML too: the same text goes through both readers
    with app.test_request_context(), quick():
        kind, document = outcome(
            lambda: checklist_files.import_document(text.encode(), filename),
            checklist_files.ChecklistFileError,
        )
    assert kind == "error" or document["title"] == "T"


# --- the store import -------------------------------------------------------------------------


@pytest.fixture
def admin_and_client(make_user, make_client, make_region):
    admin = make_user("admin.hostile@example.com", "admin")
    acme = make_client("ACME")
    make_region(acme, "NORTH")
    db.session.commit()
    return admin, acme


def import_stores(web, acme, data, filename):
    return web.post(
        f"/stores/import/{acme.id}",
        data={"csrf_token": csrf_token(web), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (
            workbook({"Stores": [STORE_ROWS[0], ["S1", '=HYPERLINK("http://x")', "NORTH"]]}),
            "s.xlsx",
            "Cell Stores!B2 holds a formula",
        ),
        (with_entity(workbook({"Stores": STORE_ROWS})), "s.xlsx", "XML that is not accepted"),
        (with_entity_bomb(workbook({"Stores": STORE_ROWS})), "s.xlsx", "XML that is not accepted"),
        (with_utf16_dtd(workbook({"Stores": STORE_ROWS})), "s.xlsx", "XML that is not accepted"),
        (b"code,name,region\nS1," + b"x" * 200_000 + b",NORTH\n", "s.csv", "not a readable CSV"),
    ],
)
def test_store_import_refuses_a_hostile_file_at_its_field(
    client, admin_and_client, data, filename, message
):
    admin, acme = admin_and_client
    login(client, admin)
    with quick(REQUEST_LIMIT):
        page = import_stores(client, acme, data, filename)
    assert page.status_code == 400
    assert message in field_error(page)
    assert db.session.scalar(select(func.count(Store.id))) == 0


@pytest.mark.parametrize("data", [b"null", b"[" * 100_000])
def test_store_import_of_something_that_is_not_a_table_is_a_400(client, admin_and_client, data):
    admin, acme = admin_and_client
    login(client, admin)
    page = import_stores(client, acme, data, "s.csv")
    assert page.status_code == 400
    assert "The column is missing." in page.text
    assert len(page.text) < 100_000  # an unknown column is named, not echoed in full


def test_store_import_applies_the_store_forms_text_limits(client, admin_and_client):
    admin, acme = admin_and_client
    login(client, admin)
    limit = STORE_TEXT_LIMITS["name"]
    data = f"code,name,region\nS1,{'x' * 10_000},NORTH\n".encode()
    page = import_stores(client, acme, data, "s.csv")
    assert page.status_code == 400
    assert f"At most {limit} characters; this has 10000." in html.unescape(page.text)
    assert db.session.scalar(select(func.count(Store.id))) == 0
    name_length = next(v for v in StoreForm.name.kwargs["validators"] if hasattr(v, "max"))
    assert name_length.max == limit  # the form's own rule, not a copy of it


# --- the visit form: draft and submit ---------------------------------------------------------


@pytest.fixture
def form_world(make_client, make_region, make_store, make_shopper):
    return build_world(make_client, make_region, make_store, make_shopper)


def post_draft(web, visit, body, token, **headers):
    return web.post(
        url(visit, "draft"),
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token, **headers},
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"revision": 1, "data": ' + b"[" * 100_000 + b"}",
        b"null",
        b'{"revision": 1e999999999, "data": {}}',
        b'{"revision": ' + b"9" * 5000 + b', "data": {}}',
        b"\xff\xfe not utf-8",
    ],
)
def test_a_hostile_json_draft_is_a_400(client, form_world, body):
    visit = form_world.visit
    login(client, form_world.ann.user)
    token = csrf_token(client)
    with quick(REQUEST_LIMIT):
        response = post_draft(client, visit, body, token)
    assert response.status_code == 400
    assert response.json == {"ok": False, "error": "The draft could not be read."}
    assert db.session.get(VisitDraft, visit.id) is None


def test_an_over_large_draft_is_refused_before_it_is_read(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    token = csrf_token(client)
    body = json.dumps({"revision": 1, "data": {"q_comments": "x" * MAX_DRAFT_BYTES}}).encode()
    response = post_draft(client, visit, body, token)
    assert response.status_code == 413
    assert response.json["error"].startswith("The draft is too large to save.")
    assert db.session.get(VisitDraft, visit.id) is None


def test_a_huge_number_answer_is_refused_at_once_and_kept_as_typed(client, form_world):
    visit = form_world.visit
    login(client, form_world.ann.user)
    token = csrf_token(client)
    typed = {**valid_fields(), "q_greet_s": "1e999999999"}
    saved = post_draft(client, visit, json.dumps({"revision": 1, "data": typed}), token)
    assert saved.status_code == 200
    with quick(REQUEST_LIMIT):
        page = client.get(url(visit, "form"))  # the draft is read back into the form
    assert page.status_code == 200 and 'value="1e999999999"' in page.text
    client.post(url(visit, "start"), data={"csrf_token": token})
    with quick(REQUEST_LIMIT):
        refused = client.post(
            url(visit, "submit"),
            data={"csrf_token": token, "submission_id": "hostile-1", **typed},
        )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Write a plain number, without an exponent (1000, not 1e3)." in text
    assert 'value="1e999999999"' in refused.text  # nothing the shopper typed is lost


@settings(max_examples=100, deadline=None)
@given(JSON_NUMBER, NUMBER_TEXT, st.integers(0, 5000))
def test_draft_json_is_parsed_quickly_whatever_it_holds(app, number, text, depth):
    body = (
        '{"revision": ' + number + ', "data": ' + "[" * depth
        + json.dumps({"q_greet_s": text}) + "]" * depth + "}"
    )  # fmt: skip
    with app.test_request_context(), quick():
        kind, parsed = outcome(lambda: loads_exact(body), ValueError)
        if kind == "ok":
            outcome(lambda: clean_draft_data(parsed["data"]), DomainError)
