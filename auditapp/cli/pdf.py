"""`flask --app auditapp reports pdf`: a store scorecard or a region report as PDF.

    flask --app auditapp reports pdf --store SH001 --wave 7 -o sh001.pdf
    flask --app auditapp reports pdf --region EAST --wave 7 -o east.pdf --language zh_Hans

The store or region code is looked up in the wave's client. The report is built as
the given user would see it (--user EMAIL), by default as the first active admin:
whoever runs commands on the server sees everything anyway.
"""

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from reports.render import cjk_font_available

from ..errors import NotFound
from ..extensions import db
from ..models import ADMIN, Region, Store, User
from ..models.waves import Wave
from ..permissions import region_scope
from ..services.reporting import adjusted_scores
from ..services.reporting import rows as report_rows
from ..services.scorecards import pdfs as scorecards


@click.command("pdf")
@click.option("--store", "store_code", help="Store code: its scorecard.")
@click.option("--region", "region_code", help="Region code: its region report.")
@click.option("--wave", "wave_id", type=int, required=True, help="Wave id.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write the PDF.",
)
@click.option("--language", default="en", show_default=True, help="en or zh_Hans.")
@click.option("--user", "email", help="Build the report as this user sees it.")
@with_appcontext  # so it also works when added to a plain click group
def pdf_command(
    store_code: str | None,
    region_code: str | None,
    wave_id: int,
    output: Path,
    language: str,
    email: str | None,
) -> None:
    """Write a store scorecard (--store) or a region report (--region) as PDF."""
    if (store_code is None) == (region_code is None):
        raise click.UsageError("Give either --store or --region.")
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.ClickException(f"No wave {wave_id}.")
    if not cjk_font_available():
        click.echo("Warning: no CJK font (bash scripts/install-fonts.sh); Chinese will not show.")
    user = _user(email)
    language = scorecards.language_of(language)
    try:
        data = _build(store_code, region_code, wave, user, language)
    except NotFound as exc:
        raise click.ClickException(f"{user.email} may not see that store or region.") from exc
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data) // 1024} KB).")


def _build(
    store_code: str | None, region_code: str | None, wave: Wave, user: User, language: str
) -> bytes:
    decimals = wave.checklist_version.decimals
    adjusted = adjusted_scores.for_wave(wave, user)
    if store_code is not None:
        store = db.session.scalar(
            select(Store).where(Store.client_id == wave.client_id, Store.code == store_code)
        )
        if store is None:
            raise click.ClickException(f"No store {store_code} in the wave's client.")
        card = scorecards.store_scorecard(store, wave, user, language)
        return scorecards.store_scorecard_pdf(card, language, decimals, adjusted)
    region = db.session.scalar(
        select(Region).where(
            Region.client_id == wave.client_id, Region.code == region_code, region_scope(user)
        )
    )
    if region is None:
        raise click.ClickException(
            f"No region {region_code} in the wave's client for {user.email}."
        )
    report = report_rows.region_report(region, wave, user, language)
    return scorecards.region_report_pdf(report, language, decimals, adjusted)


def _user(email: str | None) -> User:
    query = select(User).where(User.active.is_(True))
    if email:
        query = query.where(User.email == email.strip().lower())
    else:
        query = query.where(User.role == ADMIN).order_by(User.id)
    user = db.session.scalars(query).first()
    if user is None:
        raise click.ClickException(f"No active user {email}." if email else "No active admin.")
    return user
