"""Checklist files: JSON, YAML and XLSX export, and imports that report every problem."""

import copy
import io
import json

import pytest
from openpyxl import load_workbook

import scoring
from auditapp.extensions import db
from auditapp.services.checklists import files
from auditapp.services.checklists import versions as svc
from tests.web.worlds.checklists import SPEC


def _rich_document():
    doc = copy.deepcopy(SPEC)
    doc["language"] = "zh"
    doc["translations"] = {"zh": {"title": "门店服务审核"}, "ja": {"title": "店舗監査"}}
    doc["scoring"]["decimals"] = 2
    doc["scoring"]["bands"][1]["translations"] = {"zh": {"label": "良好"}}
    greeting = doc["sections"][0]["questions"]
    greeting[0]["guidance"] = '=HYPERLINK("http://evil")'  # formula injection attempt
    greeting[2]["options"][1]["label"] = "Neutral | flat: no smile = meh \\ ok"
    greeting[2]["options"][1]["translations"] = {"zh": {"label": "一般"}, "ja": {"label": "普通"}}
    greeting[2]["translations"] = {"zh": {"text": "员工态度", "guidance": "+看表情"}}
    greeting.append(
        {
            "key": "why2",
            "text": "-Which?",
            "type": "multi",
            "options": [
                {"value": "a", "label": "@A", "points": scoring.loads_exact("0.25")},
                {"value": "b", "label": "B", "points": -1},
            ],
            "show_if": {"question": "wait_s", "gte": scoring.loads_exact("10.5")},
            "tag": "effectiveness",
        }
    )
    doc["sections"].append({"key": "empty", "title": "Nothing yet", "weight": 5, "questions": []})
    return scoring.dump_checklist(scoring.load_checklist(doc))


@pytest.fixture
def version(make_client, make_user):
    user = make_user("files@example.com", "coordinator")
    checklist = svc.create_checklist(make_client("FIL"), "", user, _rich_document())
    db.session.flush()
    db.session.expire_all()
    return svc.draft_of(checklist)


@pytest.mark.parametrize(
    ("export", "name"),
    [
        (files.export_json, "c.json"),
        (files.export_yaml, "c.yaml"),
        (files.export_xlsx, "c.xlsx"),
    ],
)
def test_export_then_import_gives_back_the_same_document(version, export, name):
    data = export(version)

    document = files.import_document(data, name)

    assert document == svc.version_document(version) == _rich_document()


def test_json_export_is_readable_exact_and_chinese(version):
    text = files.export_json(version).decode("utf-8")
    assert "门店服务审核" in text
    assert '"points": 0.25' in text
    assert json.loads(text)["sections"][0]["key"] == "greeting"


def test_yaml_keeps_yes_and_no_as_text(version):
    text = files.export_yaml(version).decode("utf-8")
    hand_written = text.replace("'yes'", "yes")  # nothing to replace, but hand-edits happen
    assert files.import_document(hand_written.encode(), "c.yml") == _rich_document()
    doc = files.import_document(
        b"title: T\nsections:\n- key: s\n  title: S\n  questions:\n"
        b"  - {key: q, text: Q, type: yes_no, options: [{value: yes, label: Y, points: 1},"
        b" {value: no, label: N}]}\n",
        "c.yaml",
    )
    assert doc["sections"][0]["questions"][0]["options"][0]["value"] == "yes"


def test_xlsx_neutralises_formulas_and_has_a_settings_sheet(version):
    book = load_workbook(io.BytesIO(files.export_xlsx(version)))
    questions, settings = book["Questions"], book["Checklist"]
    header = [c.value for c in questions[1]]
    row = dict(zip(header, [c.value for c in questions[2]], strict=False))
    assert row["guidance"] == '\'=HYPERLINK("http://evil")'
    assert row["section_title_zh"] == "问候" and row["text_zh"] == "30秒内有人问候您吗？"
    assert row["na_allowed"] is True and row["section_weight"] == 40
    staff = dict(zip(header, [c.value for c in questions[4]], strict=False))
    assert staff["options"].startswith("warm=Warm:2|neutral=Neutral \\| flat\\: no smile")
    assert staff["options_zh"] == "warm=热情|neutral=一般"
    assert "options_ja" in header
    fields = {r[0].value: r[1].value for r in settings.iter_rows(min_row=2)}
    assert fields["method"] == "weighted_sections" and fields["title_zh"] == "门店服务审核"
    assert fields["bands"] == "90=Excellent|75=Good|60=Fair|0=Poor"
    assert fields["bands_zh"] == "90=优秀|75=良好"


def test_a_file_with_three_errors_reports_all_three():
    doc = {
        "title": "Three errors",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "a", "text": "A", "type": "yes_no", "weight": "heavy"},
                    {"key": "b", "text": "B", "type": "choice"},
                    {"key": "c", "text": "C", "type": "textbox"},
                ],
            }
        ],
    }
    with pytest.raises(files.ChecklistFileError) as caught:
        files.import_document(json.dumps(doc).encode(), "bad.json")
    assert caught.value.problems == [
        "sections[0].questions[0].weight: must be a number",
        "sections[0].questions[2].type: must be one of yes_no, choice, multi, scale, number,"
        " nps, text, photo, date, time",
    ]  # structural problems stop the lint, which would add the third …

    doc["sections"][0]["questions"][0]["weight"] = 1
    doc["sections"][0]["questions"][2]["type"] = "text"
    doc["sections"][0]["questions"].append({"key": "a", "text": "Again", "type": "yes_no"})
    doc["sections"][0]["questions"].append(
        {"key": "d", "text": "D", "type": "text", "show_if": {"question": "zz", "equals": 1}}
    )
    with pytest.raises(files.ChecklistFileError) as caught:
        files.import_document(json.dumps(doc).encode(), "bad.json")
    assert len(caught.value.problems) == 3
    assert "no options" in caught.value.problems[0]
    assert "duplicate question key 'a'" in caught.value.problems[1]
    assert "unknown question 'zz'" in caught.value.problems[2]


def test_xlsx_problems_name_rows_and_cells(version):
    data = files.export_xlsx(version)
    book = load_workbook(io.BytesIO(data))
    sheet = book["Questions"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("weight") + 1, value="heavy")
    sheet.cell(row=3, column=header.index("type") + 1, value="essay")
    sheet.cell(row=4, column=header.index("section_title") + 1, value="Other title")
    out = io.BytesIO()
    book.save(out)

    with pytest.raises(files.ChecklistFileError) as caught:
        files.import_document(out.getvalue(), "c.xlsx")

    assert caught.value.problems == [
        "Questions row 2 (weight): must be a number",
        "Questions row 4: section greeting has another title on an earlier row",
        "Questions row 3 (type): must be one of yes_no, choice, multi, scale, number, nps,"
        " text, photo, date, time",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"title: [unclosed", "not valid YAML"),
        (b"- just\n- a list\n", "does not contain a checklist"),
        (b'{"title": "T", "title": "U"}', "duplicate key"),
        (b"title: T\ntitle: U\n", "duplicate key"),
        (b"PK\x03\x04 broken zip", "not a readable XLSX"),
        (b"\xd0\xcf\x11\xe0 old", ".xls"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(files.ChecklistFileError) as caught:
        files.import_document(data, "upload")
    assert message in caught.value.problems[0]


def test_import_never_saves(make_client):
    from sqlalchemy import func, select

    from auditapp.models import Checklist

    before = db.session.scalar(select(func.count()).select_from(Checklist))
    files.import_document(json.dumps({"title": "T", "sections": []}).encode(), "t.json")
    assert db.session.scalar(select(func.count()).select_from(Checklist)) == before
