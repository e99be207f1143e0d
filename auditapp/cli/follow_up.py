"""Follow-up housekeeping for cron or a systemd timer, every 15 minutes:

    */15 * * * *  flask --app auditapp follow-up tick --base-url https://audit.example.com

One tick publishes the waves whose scheduled publication time has come
(services/publishing.publish_due: corrective actions and alerts follow), then sweeps
the alerts (services/alerts.sweep): overdue corrective actions and appeals, the daily
digests after DIGEST_HOUR_UTC, and another try for mail whose delivery failed; last it
removes stored files that no row points to (services/core/file_sweep.py). Running
it twice, or two at once, does no harm: each wave is published once and each alert
raised once.

E-mails are written to the outbox and delivered by the background-job path after the
commit. Links in them go to the site's address, the BASE_URL setting
(AUDITAPP_BASE_URL); --base-url overrides it for one run.
"""

import click
from flask.cli import AppGroup

from ..extensions import db
from ..services.core import file_sweep
from ..services.follow_up import alerts
from ..services.follow_up.publishing import publish_due
from .visits import BASE_URL, _links

follow_up = AppGroup("follow-up", help="Scheduled publication, alerts and mail retries.")


@follow_up.command("tick")
@BASE_URL
def tick(base_url: str | None) -> None:
    """Publish due waves, then raise overdue alerts, send digests and retry failed mail."""
    with _links(base_url):
        published = publish_due()
        # Published waves are kept even if the sweep below fails.
        db.session.commit()
        summary = alerts.sweep()
        db.session.commit()
    swept = file_sweep.sweep()
    names = ", ".join(wave.name for wave in published)
    click.echo(f"Waves published: {len(published)}{f' ({names})' if names else ''}.")
    click.echo(f"Overdue actions alerted: {summary.actions_overdue}.")
    click.echo(f"Overdue appeals alerted: {summary.appeals_overdue}.")
    click.echo(f"Digests sent: {summary.digests}.")
    click.echo(f"Mails queued again: {summary.mail_retried}.")
    click.echo(f"Stored files removed (no row, unfinished, old batches): {swept.total}.")
