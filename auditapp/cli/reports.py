"""Reports from the command line:

    flask --app auditapp reports export --wave 12 -o wave12.csv
    flask --app auditapp reports export --wave 12 --shape long --format xlsx -o answers.xlsx
    flask --app auditapp reports export --wave 12 --locale zh_Hans -o wave12-zh.csv
    flask --app auditapp reports export --wave 12 --as-user rm@example.com -o north.csv

The export is the one the web offers (services/reporting/exports.py): approved visits
only, wide (a row per visit) or long (a row per answer), spreadsheet formulas
neutralised. Headers are in English unless --locale says otherwise. Without --as-user
the command exports the whole wave with shopper names, as the agency sees it; with it,
exactly what that user would download (their stores; no shopper names for client
roles).

`reports pdf` (a store scorecard or a region report) lives in cli/pdf.py.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import func, select

from reports.tabular import csv_chunks, write_xlsx

from ..config import LANGUAGES
from ..extensions import db
from ..models import User
from ..permissions import can_export
from ..services.reporting import exports as report_exports
from .pdf import pdf_command

reports = AppGroup("reports", help="Result exports and reports.")
reports.add_command(pdf_command)


def _counted(rows: Iterable[list[object]], counter: list[int]) -> Iterator[list[object]]:
    for row in rows:
        counter[0] += 1
        yield row


@reports.command("export")
@click.option("--wave", "wave_id", type=int, required=True, help="The wave's id.")
@click.option(
    "--format", "fmt", type=click.Choice(report_exports.FORMATS), default="csv", show_default=True
)
@click.option(
    "--shape",
    type=click.Choice(report_exports.SHAPES),
    default="wide",
    show_default=True,
    help="wide: a row per visit; long: a row per answer.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The file to write (replaced if it exists).",
)  # fmt: skip
@click.option(
    "--locale", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
    help="Language of headers and answers.",
)  # fmt: skip
@click.option("--as-user", "email", metavar="EMAIL", help="Export what this user may download.")
def export(
    wave_id: int, fmt: str, shape: str, output: Path, locale: str, email: str | None
) -> None:
    """Export a wave's approved results as CSV or XLSX."""
    user = None
    if email:
        user = db.session.scalars(
            select(User).where(func.lower(User.email) == email.strip().lower())
        ).first()
        if user is None:
            raise click.ClickException(f"No user {email}.")
        if not can_export(user):
            raise click.ClickException(f"{user.email} may not export.")
    wave = report_exports.get_wave(user, wave_id)
    if wave is None:
        raise click.ClickException(f"No wave {wave_id}" + (f" for {user.email}." if user else "."))
    # Written beside the target and moved over it at the end, so a failed export never
    # leaves half a file under the name asked for.
    partial = output.with_name(output.name + ".part")
    count = [0]
    with force_locale(locale):
        table = report_exports.build_export(
            wave, user, shape, report_exports.reader_language(locale)
        )
        rows = _counted(table.rows, count)
        try:
            if fmt == "csv":
                with partial.open("w", encoding="utf-8", newline="") as out:
                    for chunk in csv_chunks(table.header, rows):
                        out.write(chunk)
            else:
                write_xlsx(partial, table.header, rows, table.title)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"Wrote {count[0]} rows ({shape}, {fmt}) of wave {wave.id} to {output}.")
