"""Visit housekeeping for cron or a systemd timer:

    flask --app auditapp visits remind        # e.g. hourly: reminders a day ahead
    flask --app auditapp visits mark-missed   # e.g. every 15 minutes

E-mails are written to the outbox and delivered by the background-job path after
the commit. Links in them need the site's address: SERVER_NAME when configured,
else --base-url (or AUDITAPP_BASE_URL).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db

visits = AppGroup("visits", help="Reminders and missed visits.")

BASE_URL = click.option(
    "--base-url",
    envvar="AUDITAPP_BASE_URL",
    default="http://localhost:5000",
    show_default=True,
    help="The site's address for links in e-mails, when SERVER_NAME is not set.",
)


@contextmanager
def _links(base_url: str) -> Iterator[None]:
    """url_for(..., _external=True) works from the command line."""
    if current_app.config.get("SERVER_NAME"):
        yield
        return
    with current_app.test_request_context("/", base_url=base_url):
        yield


@visits.command("remind")
@BASE_URL
def remind(base_url: str) -> None:
    """E-mail shoppers about visits starting within a day (each visit once)."""
    from .services.notifications import send_reminders

    with _links(base_url):
        sent = send_reminders()
        db.session.commit()
    click.echo(f"Reminders sent: {sent}.")


@visits.command("mark-missed")
@BASE_URL
def mark_missed(base_url: str) -> None:
    """Mark visits not started by the end of their window as missed and tell the shopper."""
    from .services.assignments import mark_missed as mark
    from .services.notifications import notify_missed

    with _links(base_url):
        missed = mark()
        for visit in missed:
            notify_missed(visit)
        db.session.commit()
    click.echo(f"Visits marked missed: {len(missed)}.")
