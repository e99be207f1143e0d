"""The background-job worker for installations with Redis (see worker.py):

AUDITAPP_REDIS_URL=redis://host:6379/0 flask --app auditapp jobs worker
"""

import click
from flask import current_app
from flask.cli import AppGroup

from ..services.core import file_sweep
from ..worker import run

jobs = AppGroup("jobs", help="Background jobs: the RQ worker.")


@jobs.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
def worker(burst: bool) -> None:
    """Run background jobs (mail, PDF batches) from Redis, surviving Redis outages."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("Set AUDITAPP_REDIS_URL: without Redis, jobs run in the app.")
    run(app, burst=burst)


storage = AppGroup("storage", help="Stored files: photos, thumbnails, PDF batches.")


@storage.command("sweep")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def sweep(dry_run: bool) -> None:
    """Remove photos no row points to, unfinished temp files and old PDF batches."""
    swept = file_sweep.sweep(dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for path in (*swept.without_rows, *swept.unfinished, *swept.old_batches):
        click.echo(f"{verb} {path}")
    click.echo(f"Files without rows: {len(swept.without_rows)}.")
    click.echo(f"Unfinished temp files: {len(swept.unfinished)}.")
    click.echo(f"Old PDF batch files: {len(swept.old_batches)}.")
