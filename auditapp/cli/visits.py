"""Visit housekeeping for cron or a systemd timer:

    flask --app auditapp visits remind        # e.g. hourly: reminders a day ahead
    flask --app auditapp visits mark-missed   # e.g. every 15 minutes

E-mails are written to the outbox and delivered by the background-job path after
the commit. Links in them go to the site's address, the BASE_URL setting
(AUDITAPP_BASE_URL); --base-url overrides it for one run.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..services.waves.assignments import mark_missed as mark
from ..services.waves.notifications import notify_missed, send_reminders

visits = AppGroup("visits", help="Reminders and missed visits.")

BASE_URL = click.option(
    "--base-url",
    default=None,
    help="The site's address for links in e-mails, instead of the BASE_URL setting.",
)


@contextmanager
def _links(base_url: str | None) -> Iterator[None]:
    """Links in mail go to BASE_URL (or --base-url); the services' site paths are
    built in a request at that address."""
    configured = current_app.config["BASE_URL"]
    current_app.config["BASE_URL"] = base_url or configured
    try:
        with current_app.test_request_context("/", base_url=base_url or configured):
            yield
    finally:
        current_app.config["BASE_URL"] = configured


@visits.command("remind")
@BASE_URL
def remind(base_url: str | None) -> None:
    """E-mail shoppers about visits starting within a day (each visit once)."""
    with _links(base_url):
        sent = send_reminders()
        db.session.commit()
    click.echo(f"Reminders sent: {sent}.")


@visits.command("mark-missed")
@BASE_URL
def mark_missed(base_url: str | None) -> None:
    """Mark visits not started by the end of their window as missed and tell the shopper."""
    with _links(base_url):
        missed = mark()
        for visit in missed:
            notify_missed(visit)
        db.session.commit()
    click.echo(f"Visits marked missed: {len(missed)}.")
