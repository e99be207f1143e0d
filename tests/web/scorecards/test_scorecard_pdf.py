"""The PDF store scorecard and region report, read back with poppler: Chinese text
in an embedded CJK font, scores rounded half-up, page numbers, user text as text,
photo thumbnails from the uploads folder only, and a URL fetcher that never reaches
the network or another file of the server. Page 1 of each is saved as a picture in
test-artifacts/ for a person to look at."""

import os
import socket
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from auditapp.services.scorecards.pdfs import region_report_pdf, store_scorecard_pdf
from reports.render import FetchRefused, LocalFilesFetcher, render_pdf, stylesheet
from tests.web.scorecard_cards import (
    CLIENT,
    COMMENT,
    ROOT,
    SCRIPT,
    SECTION_TITLES,
    STORE,
    compact,
    pdf_text,
    poppler,
    region_report,
    store_card,
    visit,
    words,
)

ARTIFACTS = ROOT / "test-artifacts"


def _save_page_one(pdf: bytes, name: str, folder: Path) -> Path:
    """Page 1 as PNG in test-artifacts/ (git-ignored), like the browser screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),
            str(ARTIFACTS / name))  # fmt: skip
    png = ARTIFACTS / f"{name}.png"
    assert png.stat().st_size > 10_000  # a real page, not a blank one
    return png


def _fonts(pdf: bytes, folder: Path) -> list[str]:
    path = folder / "fonts.pdf"
    path.write_bytes(pdf)
    return poppler("pdffonts", str(path)).splitlines()[2:]


def test_store_scorecard_shows_the_store_sections_score_and_page_numbers(
    app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        pdf = store_scorecard_pdf(store_card(), "en")
    assert pdf.startswith(b"%PDF-")
    text = words(pdf_text(pdf, tmp_path))
    flat = compact(text)
    assert STORE in flat and "SH001" in text
    assert compact(CLIENT) in flat and "华东区›上海" in flat
    for title in SECTION_TITLES:
        assert title in flat
    assert "83.3" in text  # 1665/20 = 83.25, half-up to one decimal
    assert "83.2" not in text
    assert "+4.3" in text and "significant" in text  # the change, 4.25 half-up
    assert "95% interval 80.1–86.4" in text
    assert "3 / 12" in text  # rank in region
    assert "Page 1 of " in text
    pages = int(text.split("Page 1 of ")[1].split()[0])
    assert pages >= 2 and f"Page {pages} of {pages}" in text
    assert "收银台高峰期增开一个通道" in flat  # open corrective action
    assert "Critical item failed" in text
    assert "net promoter score" in text.lower() and "+40" in text and "n = 5 answers" in text
    _save_page_one(pdf, "scorecard-store-page1", tmp_path)


def test_chinese_is_drawn_with_an_embedded_cjk_font(app: Flask, tmp_path: Path) -> None:
    """Fails when the machine lacks the CJK font (bash scripts/install-fonts.sh): the
    text would be drawn with a fallback that has no Chinese glyphs."""
    with app.app_context():
        pdf = store_scorecard_pdf(store_card(), "zh_Hans")
    fonts = _fonts(pdf, tmp_path)
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, f"no CJK font in the PDF: {fonts}"
    assert all(line.split()[-5] == "yes" for line in cjk)  # embedded (emb column)
    assert not [line for line in fonts if "Type 3" in line]
    assert all("CJK" in line for line in fonts), fonts  # one family for every glyph
    assert STORE in compact(pdf_text(pdf, tmp_path))


def test_every_question_of_every_visit_is_a_row_with_its_answer_and_points(
    app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        pdf = store_scorecard_pdf(store_card(), "en")
    path = tmp_path / "rows.pdf"
    path.write_bytes(pdf)
    lines = [words(line) for line in poppler("pdftotext", "-layout", str(path), "-").splitlines()]
    # Number and question, answer, points, left to right on one line: 2 visits x 16.
    for number, text, answer, shown in (
        ("1.2", "第2题", "是", "2/2"),
        ("1.3", "第3题", "否", "0/2"),
        ("2.3", "第3题 Critical item failed", "否", "0/2"),
        ("3.4", "第4题", "是", "—"),  # not applicable: no points
    ):
        assert lines.count(f"{number} {text} {answer} {shown}") == 2, (number, lines)
    numbers = {f"{section}.{q} " for section in "1234" for q in "1234"}
    assert sum(1 for line in lines if line[:4] in numbers) == 32


def test_user_text_is_printed_as_text_not_markup(app: Flask, tmp_path: Path) -> None:
    card = store_card(store_name=f"{STORE} {SCRIPT}", corrective_actions=(SCRIPT,))
    with app.app_context():
        text = words(pdf_text(store_scorecard_pdf(card, "en"), tmp_path))
    assert SCRIPT in text
    assert "<b>not bold</b> & done" in text and compact(COMMENT) in compact(text)


def test_a_store_with_little_data_says_so(app: Flask, tmp_path: Path) -> None:
    card = store_card(
        score=store_card().score.__class__(Fraction(70), 2),
        change=None,
        rank_in_region=None,
        corrective_actions=(),
        to_improve=(),
        nps=None,
        trend=(),
    )
    with app.app_context():
        text = words(pdf_text(store_scorecard_pdf(card, "en"), tmp_path))
    assert "low sample" in text and "no previous wave" in text
    assert "None." in text  # no open corrective actions
    assert "No earlier waves to compare with." in text
    assert "net promoter score" not in text.lower()


def test_no_approved_visits_prints_dashes_not_zeros(app: Flask, tmp_path: Path) -> None:
    card = store_card(
        score=store_card().score.__class__(None, 0),
        grade=None,
        passed=None,
        pass_rate=None,
        visits=(),
        sections=(),
        to_improve=(),
    )
    with app.app_context():
        text = words(pdf_text(store_scorecard_pdf(card, "en"), tmp_path))
    assert "No approved visits in this wave." in text
    assert "No section results in this wave." in text
    assert "Pass" not in text.replace("Passed", "")


def test_decimals_follow_the_checklist(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        text = pdf_text(store_scorecard_pdf(store_card(), "en", decimals=2), tmp_path)
    assert "83.25" in text and "+4.25" in text


def test_photo_thumbnails_come_from_the_evidence_folder_only(app: Flask, tmp_path: Path) -> None:
    uploads = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / "pdf-test"
    uploads.mkdir(parents=True, exist_ok=True)
    inside = uploads / "photo_thumb.jpg"
    Image.new("RGB", (320, 240), (11, 110, 79)).save(inside, "JPEG")
    outside = tmp_path / "secret.jpg"
    Image.new("RGB", (320, 240), (200, 0, 0)).save(outside, "JPEG")
    batches = Path(app.config["UPLOAD_FOLDER"]) / "batches"  # uploads, but not evidence
    batches.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (320, 240), (0, 0, 200)).save(batches / "other.jpg", "JPEG")
    photos = (str(inside), str(outside), str(batches / "other.jpg"))
    card = store_card(visits=(visit(1, photos=photos),))
    with app.app_context():
        pdf = store_scorecard_pdf(card, "en")
    path = tmp_path / "photos.pdf"
    path.write_bytes(pdf)
    images = poppler("pdfimages", "-list", str(path)).splitlines()[2:]
    assert len(images) == 1  # the thumbnail in the uploads folder; not the other file
    assert images[0].split()[2] == "image" and images[0].split()[3:5] == ["320", "240"]


def test_region_report_shows_ranking_sections_grades_warning_and_nps(
    app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        pdf = region_report_pdf(region_report(), "en")
    text = words(pdf_text(pdf, tmp_path))
    flat = compact(text)
    assert "华东区" in flat and compact(CLIENT) in flat
    assert "上海门店0号" in flat and "SH007" in text
    for title in SECTION_TITLES:
        assert title in flat
    assert "83.4" in text  # 83.35 half-up
    assert "是否主动介绍会员权益0" in flat and "30.0%" in text  # worst question
    assert "Grade distribution" in text and "12" in text and "55%" in text  # 12 of 22
    assert "Pass rate: 77% of visits." in text
    assert "Early-warning stores" in text
    assert "−12" in text and "promoters 20%" in text and "passives 48%" in text
    assert "detractors 32%" in text and "n = 25 answers" in text
    assert "Page 1 of " in text
    assert [line for line in _fonts(pdf, tmp_path) if "CJK" in line]
    _save_page_one(pdf, "scorecard-region-page1", tmp_path)


def test_a_region_without_data_says_so(app: Flask, tmp_path: Path) -> None:
    report = replace(
        region_report(),
        stores=(),
        sections=(),
        worst_questions=(),
        grades=(),
        early_warning=(),
        nps=None,
        change=None,
        pass_rate=None,
    )
    with app.app_context():
        text = words(pdf_text(region_report_pdf(report, "en"), tmp_path))
    assert "No stores with results in this wave." in text
    assert "No graded visits in this wave." in text
    assert "None: no store has declined three waves in a row." in text


# --- the URL fetcher ------------------------------------------------------------------


@pytest.fixture
def static(tmp_path: Path) -> Path:
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "ok.css").write_text("body { color: red }")
    return folder


def test_the_fetcher_serves_files_inside_the_allowed_folders(static: Path) -> None:
    fetcher = LocalFilesFetcher([static])
    response = fetcher.fetch((static / "ok.css").as_uri())
    assert response.read() == b"body { color: red }" and response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.com/logo.png",
        "ftp://example.com/x",
        "data:text/css,body{}",
        "file:///etc/passwd",
        "file://otherhost/etc/passwd",
    ],
)
def test_the_fetcher_refuses_the_network_and_other_files(static: Path, url: str) -> None:
    with pytest.raises(FetchRefused):
        LocalFilesFetcher([static]).fetch(url)


def test_the_fetcher_refuses_ways_out_of_the_folder(static: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, static / "link.txt")
    fetcher = LocalFilesFetcher([static])
    for url in (
        static.as_uri() + "/../secret.txt",
        static.as_uri() + "/%2e%2e/secret.txt",
        (static / "link.txt").as_uri(),
        (static / "missing.css").as_uri(),
        static.as_uri(),  # a folder, not a file
    ):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)


def test_rendering_never_opens_a_network_connection(
    static: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError("the PDF renderer tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    html = (
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<link rel="stylesheet" href="ok.css">'
        '<img src="https://example.com/x.png"><p>你好 hello</p>'
    )
    (static / "parsed.css").write_text(
        '@import "http://127.0.0.1:9/y.css"; p { background: url(https://example.com/b.png) }'
    )
    pdf = render_pdf(html, static, [static], [stylesheet(static / "parsed.css")])
    assert pdf.startswith(b"%PDF-")


def test_a_stylesheet_is_parsed_once_until_its_file_changes(static: Path) -> None:
    path = static / "ok.css"
    first = stylesheet(path)
    assert stylesheet(path) is first
    path.write_text("p { color: blue; font-size: 30pt }")
    changed = stylesheet(path)
    assert changed is not first and stylesheet(path) is changed


def test_importing_the_renderer_leaves_truncated_photos_refused() -> None:
    """WeasyPrint switches Pillow to accept truncated images on import; uploads must
    still be refused when half a photo arrives (auditapp/media.py)."""
    from PIL import ImageFile

    import reports.render  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
