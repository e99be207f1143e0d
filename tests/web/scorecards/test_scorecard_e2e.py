"""The PDFs from the database end to end: the real data layer (report_data) over the
report data world (tests/web/worlds/report_data.py), through the batch job and the
`reports pdf` command."""

import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from auditapp.services.scorecards import pdfs as scorecards
from tests.web.scorecard_cards import pdf_text, poppler, words
from tests.web.worlds import report_data

w = report_data.w  # the fixture: client RPT, regions North/South, waves W1..W4


def test_the_batch_builds_every_north_store_of_w4_from_the_database(
    app: Flask, w: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BATCH_FOLDER", str(tmp_path / "batches"))
    with app.app_context():
        batch_id = scorecards.start_region_batch(w.north, w.waves[-1], w.admin, "en")
        progress, path = scorecards.batch_progress(batch_id), scorecards.batch_zip(batch_id)
    assert progress is not None and (progress["status"], progress["done"]) == ("done", 5)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        alpha = archive.read("A1 Alpha.pdf")
    # The stores of North's subtree in W4 (S1 is South's; F1 is in no wave).
    assert [name.split()[0] for name in names] == ["A1", "B1", "C1", "D1", "E1"]
    text = words(pdf_text(alpha, tmp_path))
    assert "Alpha" in text and "Report brand" in text and "North › North-east" in text
    assert "80.0" in text and "−20.0" in text and "not significant" in text
    assert "Friendly staff." in text and "Dusty shelf." in text and "Page 1 of" in text


def test_the_command_writes_a_store_scorecard_and_a_region_report(
    app: Flask, w: Any, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    wave = str(w.waves[-1].id)
    store_pdf, region_pdf = tmp_path / "a1.pdf", tmp_path / "north.pdf"
    done = runner.invoke(
        args=["reports", "pdf", "--store", "A1", "--wave", wave, "-o", str(store_pdf)]
    )
    assert done.exit_code == 0, done.output
    assert "Alpha" in words(pdf_text(store_pdf.read_bytes(), tmp_path))
    done = runner.invoke(
        args=[
            "reports",
            "pdf",
            "--region",
            "N",
            "--wave",
            wave,
            "-o",
            str(region_pdf),
            "--language",
            "zh_Hans",
        ],
    )
    assert done.exit_code == 0, done.output
    text = words(pdf_text(region_pdf.read_bytes(), tmp_path))
    assert "North" in text and "Alpha" in text and "Sierra" not in text
    region_file = tmp_path / "fonts.pdf"
    region_file.write_bytes(region_pdf.read_bytes())
    assert "CJK" in poppler("pdffonts", str(region_file))


def test_the_command_refuses_what_the_user_may_not_see(app: Flask, w: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    wave, out = str(w.waves[-1].id), str(tmp_path / "x.pdf")
    manager = ["--user", "nora.report@example.com"]  # regional manager of North-east
    done = runner.invoke(
        args=["reports", "pdf", "--store", "C1", "--wave", wave, "-o", out, *manager]
    )
    assert done.exit_code == 1 and "may not see" in done.output
    done = runner.invoke(
        args=["reports", "pdf", "--region", "N", "--wave", wave, "-o", out, *manager]
    )
    assert done.exit_code == 1 and "No region N" in done.output
    done = runner.invoke(args=["reports", "pdf", "--wave", wave, "-o", out])
    assert done.exit_code == 2 and "either --store or --region" in done.output
    assert not Path(out).exists()
