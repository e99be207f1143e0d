"""Command-line tools: `flask --app auditapp demo`, `create-user`."""

import click
from flask import Flask
from sqlalchemy import func, select

from ..demo import DEMO_PASSWORD, build_demo
from ..extensions import db
from ..models import ROLES, User
from ..services.core import accounts
from ..services.org import records as org
from .follow_up import follow_up
from .jobs import jobs, storage
from .reports import reports
from .visits import visits


def init_app(app: Flask) -> None:
    app.cli.add_command(visits)  # visits remind, visits mark-missed (cli/visits.py)
    app.cli.add_command(reports)  # reports export, reports pdf (cli/reports.py)
    app.cli.add_command(follow_up)  # follow-up tick (cli/follow_up.py)
    app.cli.add_command(jobs)  # jobs worker (cli/jobs.py, worker.py)
    app.cli.add_command(storage)  # storage sweep (cli/jobs.py)

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
    def demo(if_empty: bool) -> None:
        """Load the demo clients, stores, shoppers and one user per role."""
        has_users = db.session.scalar(select(func.count(User.id)))
        if has_users and if_empty:
            click.echo("The database already has data; demo not loaded.")
            _print_logins()
            return
        if has_users:
            raise click.ClickException("The database is not empty; the demo needs an empty one.")
        logins = build_demo()
        db.session.commit()
        click.echo("Demo data loaded.")
        _print_logins(logins)

    @app.cli.command("create-user")
    @click.argument("email")
    @click.argument("name")
    @click.option("--role", type=click.Choice(ROLES), default="admin")
    @click.password_option()
    def create_user(email: str, name: str, role: str, password: str) -> None:
        """Create a user with a password (for the first admin of a real installation)."""
        user = org.save_user(None, {"email": email, "name": name, "role": role})
        accounts.set_password(user, password)
        db.session.commit()
        click.echo(f"Created {role} {user.email}.")


def _print_logins(logins: list[tuple[str, str, str]] | None = None) -> None:
    rows = logins or [
        (u.role, u.email, DEMO_PASSWORD)
        for u in db.session.scalars(
            select(User).where(User.email.like("%@demo.auditapp.cn"), User.role != "shopper")
        )
    ]
    if not rows:
        return
    click.echo("\nDemo logins (http://127.0.0.1:5000):")
    for role, email, password in rows:
        click.echo(f"  {role:<42} {email:<32} {password}")
