"""What the client's people never learn: another store's results (for a store manager)
and who shopped (for every client reader). Pages, PDFs (read back with pdftotext),
the batch ZIP and every export a client reader can download are searched for the
shoppers' names and e-mail addresses: one Chinese, one ASCII, both distinctive, so a
match can only be a leak.

The world is the review tests' (client REVW: North ── N1, North area ── NA1; South ──
S1): store A is NA1 (the store manager's), store B is N1. The Spring wave visits both;
the Summer wave plans only B. Both are published.
"""

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.services.core import pseudonyms
from auditapp.services.review import decisions as review
from tests.conftest import csrf_token, login, page_text
from tests.web.scorecard_cards import pdf_text
from tests.web.worlds.reading import read_csv, read_xlsx
from tests.web.worlds.review import GOOD, build_world, submitted

CHINESE = "欧阳翠花"
ASCII = "Quimby Zanzibar-Hollingsworth"
EMAILS = ("ouyang.cuihua@example.com", "quimby.zh@example.com")
COMMENT = "Tidy counter, quick greeting."
SHAPES = [(shape, fmt) for shape in ("wide", "long") for fmt in ("csv", "xlsx")]


@pytest.fixture
def w(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    w.a, w.b = w.store_area, w.store_north
    w.cuihua = make_shopper(EMAILS[0], name=CHINESE)
    w.quimby = make_shopper(EMAILS[1], name=ASCII)
    w.store_manager = make_user("sm.privacy@example.com", "store_manager", client=w.client,
                                stores=[w.a], can_export=True)  # fmt: skip
    w.rm_north = make_user("rm.privacy@example.com", "regional_manager", client=w.client,
                           regions=[w.north], can_export=True)  # fmt: skip
    db.session.commit()
    fields = GOOD | {"comment_main": COMMENT}
    w.a_visits = [
        approve(w, w.a, w.cuihua, fields),
        approve(w, w.a, w.quimby, fields),
    ]
    w.b_visits = [
        approve(w, w.b, w.quimby, fields),
        approve(w, w.b, w.cuihua, fields, wave=w.wave2),
    ]
    w.wave.published_at = w.wave2.published_at = utcnow()
    db.session.commit()
    return w


def approve(w: Any, store: Any, shopper: Any, fields: dict[str, Any], wave: Any = None) -> Any:
    visit = submitted(w, store, shopper, wave=wave, fields=fields)
    with w.app.test_request_context():
        review.approve(visit, w.reviewer)
    db.session.commit()
    return visit


def get(client: Any, url: str) -> Any:
    """Buffered, so a download (an XLSX's temporary file) is closed at once."""
    return client.get(url, buffered=True)


def export_url(wave: Any, shape: str, fmt: str) -> str:
    return f"/results/export?wave={wave.id}&shape={shape}&format={fmt}"


def export_text(data: bytes, fmt: str) -> str:
    rows = read_csv(data) if fmt == "csv" else read_xlsx(data)
    return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)


def assert_no_shopper(text: str, where: str) -> None:
    for secret in (CHINESE, ASCII, "Quimby", "Zanzibar", "欧阳", *EMAILS):
        assert secret not in text, f"{secret!r} in {where}"


# --- another store ----------------------------------------------------------------------


def test_a_store_manager_gets_404_for_another_stores_pages_and_files(client, w):
    login(client, w.store_manager)
    b, wave = w.b.id, w.wave.id
    for url in (
        f"/reports/stores/{b}",
        f"/reports/stores/{b}?wave={wave}",
        f"/reports/stores/{b}/scorecard.pdf",
        f"/reports/stores/{b}/scorecard.pdf?wave={wave}",
        f"/stores/{b}",
        f"/reports/regions/{w.north.id}/report.pdf?wave={wave}",
        f"/reports/questions?region={w.north.id}&wave={wave}",
        f"/stores/export.csv?region={w.north.id}",
        *(export_url(w.wave2, shape, fmt) for shape, fmt in SHAPES),  # plans B only
    ):
        response = get(client, url)
        assert response.status_code == 404, url
        assert "North store" not in response.text, url
    batch = client.post(
        f"/reports/regions/{w.north.id}/scorecards",
        data={"csrf_token": csrf_token(client), "wave": str(wave)},
    )
    assert batch.status_code == 404
    # Their own store opens, so the 404s above are about the store, not the role.
    assert get(client, f"/reports/stores/{w.a.id}?wave={wave}").status_code == 200
    assert get(client, f"/reports/stores/{w.a.id}/scorecard.pdf?wave={wave}").status_code == 200


@pytest.mark.parametrize(("shape", "fmt"), SHAPES)
def test_a_store_manager_exports_only_their_own_stores_rows(client, w, shape, fmt):
    login(client, w.store_manager)
    response = get(client, export_url(w.wave, shape, fmt))
    assert response.status_code == 200
    rows = read_csv(response.data) if fmt == "csv" else read_xlsx(response.data)
    header, body = rows[0], rows[1:]
    assert {int(str(r[0])) for r in body} == {v.id for v in w.a_visits}
    column = header.index("Store code")
    assert {r[column] for r in body} == {"NA1"}


def test_a_store_manager_exports_only_their_own_store_file(client, w):
    login(client, w.store_manager)
    response = get(client, "/stores/export.csv")
    assert response.status_code == 200
    codes = [line.split(",")[0] for line in response.text.lstrip("\ufeff").splitlines()[1:]]
    assert codes == ["NA1"]
    assert get(client, f"/stores/export.csv?client={w.client.id}").text.count("North store") == 0


# --- who shopped ---------------------------------------------------------------------------


def test_the_agency_knows_who_shopped(client, w):
    """The check below is worth something only if the names are there to leak."""
    w.coordinator.can_export = True
    db.session.commit()
    login(client, w.coordinator)
    wide = get(client, export_url(w.wave, "wide", "csv")).data.decode("utf-8-sig")
    assert CHINESE in wide and ASCII in wide


def test_a_store_manager_reads_no_shopper_name_on_pages(client, w):
    login(client, w.store_manager)
    seen = []
    for url in (
        "/reports/",
        f"/reports/stores/{w.a.id}",
        f"/reports/stores/{w.a.id}?wave={w.wave.id}",
        f"/stores/{w.a.id}",
        "/stores/",
        "/results/exports",
    ):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert_no_shopper(response.text, url)
        seen.append(page_text(response.text))
    assert COMMENT in seen[2]  # the visits are on the page, only not who made them
    assert "Greeted?" in seen[2]
    assert all("North store" not in text and "N1" not in text.split() for text in seen)


def test_a_store_manager_reads_no_shopper_name_in_the_scorecard_pdf(client, w, tmp_path: Path):
    login(client, w.store_manager)
    response = get(client, f"/reports/stores/{w.a.id}/scorecard.pdf?wave={w.wave.id}")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "NA1" in text and COMMENT in " ".join(text.split())
    assert_no_shopper(text, "the scorecard PDF")
    assert "North store" not in text  # ranked among the region's stores, never named


@pytest.mark.parametrize("who", ["store_manager", "rm_north"])
def test_no_export_a_client_reader_downloads_names_a_shopper(client, w, who):
    login(client, getattr(w, who))
    for shape, fmt in SHAPES:
        response = get(client, export_url(w.wave, shape, fmt))
        assert response.status_code == 200, (shape, fmt)
        text = export_text(response.data, fmt)
        assert str(w.a_visits[0].id) in text
        assert_no_shopper(text, f"the {shape} {fmt} export")
    for fmt in ("csv", "xlsx"):
        stores = get(client, f"/stores/export.{fmt}")
        assert stores.status_code == 200
        content = stores.text if fmt == "csv" else export_text(stores.data, fmt)
        assert "NA1" in content
        assert_no_shopper(content, f"the store export ({fmt})")


def test_a_regional_manager_reads_no_shopper_name_in_pdfs_or_the_batch(client, w, tmp_path):
    login(client, w.rm_north)
    region = get(client, f"/reports/regions/{w.north.id}/report.pdf?wave={w.wave.id}")
    assert region.status_code == 200
    assert_no_shopper(pdf_text(region.data, tmp_path), "the region report PDF")
    started = client.post(
        f"/reports/regions/{w.north.id}/scorecards",
        data={"csrf_token": csrf_token(client), "wave": str(w.wave.id)},
    )
    assert started.status_code == 302
    page = client.get(started.location).text
    link = re.search(r'href="(/reports/batches/\w+/scorecards\.zip)"', page)
    assert link, "the batch did not finish"
    archive = get(client, link.group(1))
    with zipfile.ZipFile(io.BytesIO(archive.data)) as found:
        names = sorted(found.namelist())
        assert names == ["N1 North store.pdf", "NA1 North area store.pdf"]
        for name in names:
            assert_no_shopper(name, "a file name of the batch")
            assert_no_shopper(pdf_text(found.read(name), tmp_path), name)


def test_a_pseudonym_is_stable_per_client_and_reveals_no_name(app, w):
    with app.app_context():
        first = pseudonyms.pseudonym(w.cuihua.id, w.client.id)
        assert first == pseudonyms.pseudonym(w.cuihua.id, w.client.id)
        assert first != pseudonyms.pseudonym(w.quimby.id, w.client.id)
        assert first != pseudonyms.pseudonym(w.cuihua.id, w.other.id)
        assert re.fullmatch(r"Shopper [A-Z2-9]{6}", first)
        assert_no_shopper(first, "a pseudonym")
