"""Result exports (services/reporting/exports.py, views/results.py, cli/reports.py): the
wide (a row per visit) and long (a row per answer) tables of a wave's approved visits,
as CSV and XLSX, from the web and the command line.

The world is the review tests' (a client with North, its sub-area and South, a wave
over one store in each); visits are submitted through the real form service and
approved through the real review service, which stores their results."""

import csv
import io
from datetime import datetime, time
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.services.reporting import exports as report_exports
from auditapp.services.review import decisions as review
from reports.tabular import XLSX_MIME
from tests.conftest import login, page_text
from tests.web.worlds.reading import read_csv, read_xlsx
from tests.web.worlds.review import GOOD, build_world, reload, submitted

FORMULA = '=HYPERLINK("http://evil.example","click")'
COMMENT = "=cmd|' /C calc'!A0"
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUESTIONS = ("greeted", "wait_s", "staff", "why", "extras", "rating", "shelf", "thanked")


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper):
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    w.north_visit = _approved(w, w.store_north)
    w.area_visit = _approved(
        w,
        w.store_area,
        fields=GOOD | {"q_staff": "rude", "q_why": FORMULA, "comment_main": COMMENT},
        shopper=w.bob,
    )
    w.south_visit = _approved(w, w.store_south)
    w.pending = submitted(w, w.store_north)  # submitted, never approved
    w.other_wave_visit = _approved(w, w.store_north, wave=w.wave2)
    w.coordinator.can_export = True
    w.rm_north = make_user("rm.north.x@example.com", "regional_manager", client=w.client,
                           regions=[w.north], can_export=True)  # fmt: skip
    w.rm_south = make_user("rm.south.x@example.com", "regional_manager", client=w.client,
                           regions=[w.south])  # fmt: skip
    w.store_manager = make_user("sm.area.x@example.com", "store_manager", client=w.client,
                                stores=[w.store_area], can_export=True)  # fmt: skip
    w.outsider_coordinator.can_export = True
    for wave in (w.wave, w.wave2, w.other_wave):  # client roles read published waves only
        wave.published_at = utcnow()
    db.session.commit()
    return w


def _approved(w, store, **kw):  # type: ignore[no-untyped-def]
    visit = submitted(w, store, **kw)
    review.approve(visit, w.reviewer)
    db.session.commit()
    return reload(visit)


def url(wave, shape="wide", fmt="csv"):  # type: ignore[no-untyped-def]
    return f"/results/export?wave={wave.id}&shape={shape}&format={fmt}"


def as_text(value: object) -> str:
    """An XLSX cell as the CSV writes it, to compare the two files."""
    if value is None:
        return ""
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def same_number_or_text(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except ArithmeticError:
        return a == b


def by_visit(rows: list[list[str]]) -> dict[int, dict[str, str]]:
    header = rows[0]
    return {int(r[0]): dict(zip(header, r, strict=True)) for r in rows[1:]}


def get(client, user, address):  # type: ignore[no-untyped-def]
    login(client, user)
    return fetch(client, address)


def fetch(client, address):  # type: ignore[no-untyped-def]
    """Buffered, so the response (and an XLSX's temporary file) is closed at once."""
    return client.get(address, buffered=True)


# --- wide --------------------------------------------------------------------------------


def test_wide_csv_has_a_row_per_approved_visit_with_answers_in_words(client, w):
    response = get(client, w.coordinator, url(w.wave))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = read_csv(response.data)
    header = rows[0]
    assert header[:7] == ["Visit ID", "Client", "Wave", "Store code", "Store", "Region", "Shopper"]
    assert "Section score: Main" in header and "Section score: Exit" in header
    assert "greeted: Greeted?" in header and "Overall comment" in header
    visits = by_visit(rows)
    # Only approved visits of this wave: not the pending one, not the other wave's.
    assert list(visits) == sorted([w.north_visit.id, w.area_visit.id, w.south_visit.id])
    north = visits[w.north_visit.id]
    assert north["Client"] == "Review brand" and north["Wave"] == "Spring wave"
    assert (north["Store code"], north["Store"], north["Region"]) == ("N1", "North store", "North")
    assert visits[w.area_visit.id]["Region"] == "North / North area"
    assert north["Shopper"] == "Ann Shopper"
    assert visits[w.area_visit.id]["Shopper"] == "Bob Shopper"
    started = w.north_visit.started_at.astimezone(SHANGHAI)
    finished = w.north_visit.finished_at.astimezone(SHANGHAI)
    assert north["Visit date"] == started.date().isoformat()
    assert north["Check-in"] == started.strftime("%H:%M")
    assert north["Check-out"] == finished.strftime("%H:%M")
    # 4.5 of 10 points; one decimal, as the checklist says; pass mark 80.
    assert Fraction(w.north_visit.score_exact) == 45
    assert (north["Score"], north["Result"], north["Grade"]) == ("45.0", "FAIL", "Poor")
    assert north["Section score: Main"] == "38.9"  # 3.5 of 9, half-up
    assert north["Section score: Exit"] == "100.0"
    assert north["greeted: Greeted?"] == "Yes"
    assert north["wait_s: Seconds until first contact"] == "45"
    assert north["staff: Staff behaviour"] == "Neutral"
    assert north["extras: What was offered?"] == "A bag, A pushy upsell"
    assert north["rating: Overall"] == "3"
    assert north["why: Why?"] == "" and north["shelf: Photo of the shelf"] == ""
    assert north["Comment: Main"] == "Quiet store."


def test_wide_score_is_rounded_half_up_from_the_exact_score(app, w):
    with app.test_request_context():
        assert report_exports.rounded("2669/40", None, 1) == Decimal("66.7")  # 66.725
        assert report_exports.rounded("133/2", None, 0) == Decimal("67")  # 66.5 -> 67
        assert report_exports.rounded(None, Decimal("66.6500"), 1) == Decimal("66.7")
        assert report_exports.rounded(None, None, 1) is None


# --- long --------------------------------------------------------------------------------


def test_long_csv_has_a_row_per_question_with_points(client, w):
    rows = read_csv(get(client, w.coordinator, url(w.wave, "long")).data)
    header = rows[0]
    assert header == [
        "Visit ID", "Store code", "Wave", "Section key", "Section", "Question key", "Question",
        "Answer", "Points earned", "Points possible", "Applicable", "Full credit",
        "Critical failed",
    ]  # fmt: skip
    body = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert {int(r["Visit ID"]) for r in body} == {
        w.north_visit.id, w.area_visit.id, w.south_visit.id,
    }  # fmt: skip
    north = [r for r in body if int(r["Visit ID"]) == w.north_visit.id]
    assert [r["Question key"] for r in north] == list(QUESTIONS)  # checklist order
    assert {r["Store code"] for r in north} == {"N1"}
    first = north[0]
    assert (first["Section key"], first["Section"], first["Question"]) == (
        "main",
        "Main",
        "Greeted?",
    )
    assert (first["Answer"], first["Points earned"], first["Points possible"]) == ("Yes", "1", "1")
    assert (first["Applicable"], first["Full credit"], first["Critical failed"]) == (
        "1", "1", "0",
    )  # fmt: skip
    wait = north[1]
    assert (wait["Answer"], wait["Points earned"], wait["Points possible"]) == ("45", "1", "2")
    assert wait["Full credit"] == "0"
    rating = north[5]
    assert (rating["Answer"], rating["Points earned"]) == ("3", "0.5")
    shelf = north[6]
    assert (shelf["Answer"], shelf["Applicable"], shelf["Full credit"]) == (
        "Not answered", "0", "",
    )  # fmt: skip
    # Compliance from the file: Σ earned / Σ possible over the applicable rows.
    applicable = [r for r in north if r["Applicable"] == "1"]
    earned = sum(Decimal(r["Points earned"]) for r in applicable)
    possible = sum(Decimal(r["Points possible"]) for r in applicable)
    assert Fraction(earned) / Fraction(possible) * 100 == Fraction(w.north_visit.score_exact)


# --- scope and identity ------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_regional_manager_gets_only_their_region_and_no_shopper(client, w, shape):
    response = get(client, w.rm_north, url(w.wave, shape))
    assert response.status_code == 200
    rows = read_csv(response.data)
    assert {int(r[0]) for r in rows[1:]} == {w.north_visit.id, w.area_visit.id}
    assert "Shopper" not in rows[0]
    text = response.data.decode("utf-8-sig")
    assert "S1" not in {r[rows[0].index("Store code")] for r in rows[1:]}
    assert "Ann Shopper" not in text and "Bob Shopper" not in text
    assert "ann.review@example.com" not in text


def test_store_manager_gets_only_their_store(client, w):
    rows = read_csv(get(client, w.store_manager, url(w.wave)).data)
    assert [int(r[0]) for r in rows[1:]] == [w.area_visit.id]
    assert "Shopper" not in rows[0]


def test_xlsx_for_a_client_role_names_no_shopper_either(client, w):
    rows = read_xlsx(get(client, w.rm_north, url(w.wave, "wide", "xlsx")).data)
    assert "Shopper" not in rows[0]
    assert not any("Shopper" in str(v) for row in rows for v in row if v is not None)


def test_outsiders_get_404(client, w, make_user):
    outsiders = [
        w.rm_south,  # no export permission
        w.outsider_coordinator,  # may export, another client
        w.ann.user,  # a shopper
        w.reviewer,  # client's reviewer without the permission
    ]
    for user in outsiders:
        for shape in ("wide", "long"):
            assert get(client, user, url(w.wave, shape)).status_code == 404, user.email
    # A store manager may export, but this wave has none of their stores.
    elsewhere = make_user("sm.south.x@example.com", "store_manager", client=w.client,
                          stores=[w.store_south], can_export=True)  # fmt: skip
    assert get(client, elsewhere, url(w.wave2)).status_code == 404
    assert get(client, elsewhere, url(w.wave)).status_code == 200


def test_unknown_wave_shape_or_format_is_404(client, w):
    login(client, w.coordinator)
    assert fetch(client, url(w.wave, "tall")).status_code == 404
    assert fetch(client, url(w.wave, "wide", "pdf")).status_code == 404
    assert fetch(client, "/results/export?shape=wide&format=csv").status_code == 404
    assert fetch(client, "/results/export?wave=x").status_code == 404
    assert fetch(client, url(w.other_wave)).status_code == 404
    assert fetch(client, "/results/export?wave=999999").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, w):
    response = fetch(client, url(w.wave))
    assert response.status_code == 302 and "/login" in response.location


# --- formula injection ---------------------------------------------------------------------


def test_formulas_are_neutralised_in_csv_and_xlsx(client, w):
    login(client, w.coordinator)
    wide = by_visit(read_csv(fetch(client, url(w.wave)).data))[w.area_visit.id]
    assert wide["why: Why?"] == "'" + FORMULA
    assert wide["Comment: Main"] == "'" + COMMENT
    long_rows = read_csv(fetch(client, url(w.wave, "long")).data)
    assert [r[7] for r in long_rows[1:] if r[5] == "why" and r[7] != "Not answered"] == [
        "'" + FORMULA
    ]
    xlsx = read_xlsx(fetch(client, url(w.wave, "wide", "xlsx")).data)
    cells = [v for row in xlsx for v in row if isinstance(v, str)]
    assert "'" + FORMULA in cells and "'" + COMMENT in cells
    assert FORMULA not in cells and COMMENT not in cells


# --- XLSX --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_xlsx_opens_and_holds_the_same_rows_as_csv(client, w, shape):
    login(client, w.coordinator)
    from_csv = read_csv(fetch(client, url(w.wave, shape)).data)
    response = fetch(client, url(w.wave, shape, "xlsx"))
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIME
    assert f"-wave{w.wave.id}-{shape}-" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    assert response.headers["Cache-Control"] == "private, no-store"  # views/downloads.py
    from_xlsx = read_xlsx(response.data)
    assert len(from_xlsx) == len(from_csv)
    for line, (a, b) in enumerate(zip(from_csv, from_xlsx, strict=True)):
        texts = [as_text(v) for v in b]
        assert len(texts) == len(a), line
        for x, y in zip(a, texts, strict=True):
            assert same_number_or_text(x, y), (line, x, y)


# --- language ------------------------------------------------------------------------------


def test_checklist_texts_follow_the_readers_language(client, w):
    w.coordinator.locale = "zh_Hans"
    db.session.commit()
    rows = read_csv(get(client, w.coordinator, url(w.wave)).data)
    assert "greeted: 有人招呼您吗？" in rows[0]
    assert any("主要" in h for h in rows[0])


# --- the page ------------------------------------------------------------------------------


def test_exports_page_lists_waves_in_scope_with_links(client, w):
    page = get(client, w.rm_north, "/results/exports")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Spring wave" in text and "Summer wave" in text and "Other wave" not in text
    assert url(w.wave, "long", "xlsx").replace("&", "&amp;") in page.text
    row = page.text[page.text.index(f'data-wave="{w.wave.id}"') :]
    assert '<td><span class="cell-label">Approved visits: </span>2</td>' in row.split("</tr>")[0]
    assert "Shoppers are not named." in text


def test_exports_page_without_permission_says_so(client, w):
    page = get(client, w.rm_south, "/results/exports")
    assert page.status_code == 200
    assert 'id="no-permission"' in page.text
    assert "/results/export?" not in page.text


def test_exports_page_is_not_for_shoppers(client, w):
    assert get(client, w.ann.user, "/results/exports").status_code == 404


def test_navigation_offers_exports_to_regional_managers(client, w):
    assert "/results/exports" in get(client, w.rm_north, "/").text


# --- command line --------------------------------------------------------------------------


def test_cli_writes_csv_and_xlsx(app, w, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "wave.csv"
    done = runner.invoke(
        args=["reports", "export", "--wave", str(w.wave.id), "--shape", "long", "-o", str(target)]
    )
    assert done.exit_code == 0, done.output
    assert "Wrote 24 rows" in done.output
    rows = read_csv(target.read_bytes())
    assert len(rows) == 1 + 3 * len(QUESTIONS)
    assert rows[0][0] == "Visit ID"
    xlsx = tmp_path / "wave.xlsx"
    done = runner.invoke(
        args=["reports", "export", "--wave", str(w.wave.id), "--format", "xlsx", "-o", str(xlsx)]
    )
    assert done.exit_code == 0, done.output
    wide = read_xlsx(xlsx.read_bytes())
    assert wide[0][6] == "Shopper"  # the command line is the agency's
    assert [r[0] for r in wide[1:]] == sorted([w.north_visit.id, w.area_visit.id, w.south_visit.id])
    assert not list(tmp_path.glob("*.part"))


def test_cli_as_a_user_and_in_chinese(app, w, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "north.csv"
    done = runner.invoke(
        args=[
            "reports", "export", "--wave", str(w.wave.id), "-o", str(target),
            "--as-user", w.rm_north.email, "--locale", "zh_Hans",
        ]
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = read_csv(target.read_bytes())
    assert {int(r[0]) for r in rows[1:]} == {w.north_visit.id, w.area_visit.id}
    assert "Shopper" not in rows[0]
    assert "greeted: 有人招呼您吗？" in rows[0]


def test_cli_refuses_an_unknown_wave_or_user(app, w, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "x.csv"
    done = runner.invoke(args=["reports", "export", "--wave", "999999", "-o", str(target)])
    assert done.exit_code != 0 and "No wave 999999" in done.output
    done = runner.invoke(
        args=["reports", "export", "--wave", str(w.wave.id), "-o", str(target),
              "--as-user", w.rm_south.email]
    )  # fmt: skip
    assert done.exit_code != 0 and "may not export" in done.output
    done = runner.invoke(
        args=["reports", "export", "--wave", str(w.other_wave.id), "-o", str(target),
              "--as-user", w.rm_north.email]
    )  # fmt: skip
    assert done.exit_code != 0
    assert not target.exists()


# --- the table writers (reports/tabular.py) ------------------------------------------------


def test_csv_chunks_batch_rows_and_neutralise_like_safe_cell():
    from reports.tabular import csv_chunks, safe_cell

    rows = [[i, f"row {i}", "=1+1" if i % 2 else "-5", Decimal("0.5"), None] for i in range(500)]
    chunks = list(csv_chunks(["n", "text", "f", "d", "none"], rows, chunk_chars=1000))
    assert len(chunks) > 5 and all(len(c) < 1100 for c in chunks)
    text = "".join(chunks)
    assert text.startswith("\ufeffn,text,f,d,none\r\n")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert len(parsed) == 500
    assert parsed[1] == ["1", "row 1", safe_cell("=1+1"), "0.5", ""]
    assert parsed[0][2] == "-5"  # a number is left alone


def test_write_xlsx_continues_on_new_sheets_past_the_row_limit(tmp_path):
    from reports.tabular import write_xlsx

    target = tmp_path / "t.xlsx"
    rows = [[i, "@x\x07"] for i in range(5)]
    assert write_xlsx(target, ["n", "t"], rows, "Spring: wave/1 [A]", max_rows=3) == 5
    book = load_workbook(target, read_only=True)
    assert book.sheetnames == [
        "Spring  wave 1  A",
        "Spring  wave 1  A (2)",
        "Spring  wave 1  A (3)",
    ]
    sheets = [[list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets]
    book.close()
    assert [s[0] for s in sheets] == [["n", "t"]] * 3
    assert [r[0] for s in sheets for r in s[1:]] == [0, 1, 2, 3, 4]
    assert sheets[0][1][1] == "'@x"  # neutralised, the control character dropped


def test_write_xlsx_of_no_rows_has_the_header(tmp_path):
    from reports.tabular import write_xlsx

    target = tmp_path / "empty.xlsx"
    assert write_xlsx(target, ["a", "b"], [], "x" * 40) == 0
    book = load_workbook(target, read_only=True)
    assert book.sheetnames == ["x" * 31]
    assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)] == [["a", "b"]]
    book.close()


def test_an_xlsx_too_large_for_the_web_is_sent_back_with_a_note(app, client, w, monkeypatch):
    monkeypatch.setitem(app.config, "RESULT_XLSX_MAX_CELLS", 10)
    login(client, w.coordinator)
    response = fetch(client, url(w.wave, "long", "xlsx"))
    assert response.status_code == 302 and response.location.endswith("/results/exports")
    page = client.get("/results/exports").text
    assert "too large to build as XLSX here (about 312 cells; the limit is 10)" in page
    assert fetch(client, url(w.wave, "long", "csv")).status_code == 200  # CSV streams
