"""E-mails to shoppers about their visits, in each shopper's own language. Sent
through the outbox, so delivery happens in the background."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import utcnow
from ...models.waves import ACCEPTED, ASSIGNED, Visit
from ..core import external_url, send_mail


def _when(visit: Visit) -> str:
    """The window in the store's time zone, in the mail's language. Babel's own
    formatters keep the aware local times as they are (Flask-Babel's would treat them
    as UTC and move them to BABEL_DEFAULT_TIMEZONE)."""
    zone = ZoneInfo(visit.store.timezone)
    locale = str(get_locale() or "en")
    start, end = visit.window_start.astimezone(zone), visit.window_end.astimezone(zone)
    return (
        f"{format_datetime(start, 'medium', locale=locale)} – "
        f"{format_time(end, 'short', locale=locale)}"
    )


def _language(visit: Visit) -> str:
    """The shopper's saved language (recorded from their browser at first sign-in)."""
    assert visit.shopper is not None
    return visit.shopper.user.locale or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _send(visit: Visit, subject: str, body: str) -> None:
    shopper = visit.shopper
    if shopper is None:
        return
    send_mail(shopper.user.email, subject, body)


def notify_assigned(visit: Visit) -> None:
    if visit.shopper is None:
        return
    link = external_url("my_visits.show", visit_id=visit.id)
    with force_locale(_language(visit)):
        _send(
            visit,
            _("New visit: %(store)s", store=visit.store.name),
            _(
                "You have a new visit to %(store)s (%(address)s) on %(when)s.\n"
                "Please accept or decline it: %(link)s",
                store=visit.store.name,
                address=visit.store.address,
                when=_when(visit),
                link=link,
            ),
        )


def notify_missed(visit: Visit) -> None:
    if visit.shopper is None:
        return
    with force_locale(_language(visit)):
        _send(
            visit,
            _("Missed visit: %(store)s", store=visit.store.name),
            _(
                "Your visit to %(store)s on %(when)s was not started in time and is now "
                "marked as missed. If something went wrong, please tell your coordinator.",
                store=visit.store.name,
                when=_when(visit),
            ),
        )


def send_reminders(now: datetime | None = None) -> int:
    """Reminds shoppers of visits starting within the next day; each visit once."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store), selectinload(Visit.shopper))
        .where(
            Visit.status.in_((ASSIGNED, ACCEPTED)),
            Visit.reminder_sent_at.is_(None),
            Visit.window_start > now,
            Visit.window_start <= now + timedelta(days=1),
        )
    ).all()
    for visit in due:
        if visit.shopper is None:
            continue
        link = external_url("my_visits.show", visit_id=visit.id)
        with force_locale(_language(visit)):
            _send(
                visit,
                _("Reminder: your visit to %(store)s", store=visit.store.name),
                _(
                    "A reminder of your visit to %(store)s (%(address)s) on %(when)s.\n"
                    "The briefing: %(link)s",
                    store=visit.store.name,
                    address=visit.store.address,
                    when=_when(visit),
                    link=link,
                ),
            )
        visit.reminder_sent_at = now
    return len(due)
