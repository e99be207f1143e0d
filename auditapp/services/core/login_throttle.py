"""How long a sign-in attempt must wait, read from the login history.

Failed sign-ins never lock an account: they make the next attempt wait, and only
where the failures came from. "Where" is the network of the client's address: the
address itself for IPv4, its /64 for IPv6 (auditapp/networks.py), so rotating
addresses inside one /64 escapes nothing. The rules, in the order they are checked:

- Known places: an e-mail and network that signed in successfully within
  LOGIN_KNOWN_NETWORK_AGE are exempt from the next two rules, so neither a crowd of
  guessers nor a noisy shared address (carrier NAT, a client's head office) keeps
  the owner out. The per-account-and-network rule still holds for them.
- Per network, whatever the account: LOGIN_IP_MAX_FAILURES failures within
  LOGIN_IP_WINDOW and the network waits until the oldest of them leaves the window
  (one machine guessing many accounts).
- Per account and network: the first LOGIN_FREE_FAILURES failures within
  LOGIN_THROTTLE_WINDOW since that pair's last success cost nothing; after that each
  attempt waits LOGIN_FIRST_DELAY after the last failure, doubling with each further
  failure up to LOGIN_MAX_DELAY. The owner signing in from elsewhere is not held up.
- Per account from unknown networks: past LOGIN_ACCOUNT_FREE_FAILURES failures from
  anywhere within the window, networks that are not known places wait the same
  growing time (many machines guessing one account).

Everything is keyed by the e-mail as typed (normalised), never by whether an account
exists, so an unknown address gets exactly the answers a real one gets. Attempts
refused here are not recorded: no password was tried.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from flask import current_app
from sqlalchemy import ColumnElement, func, select

from ...extensions import db
from ...models import LoginEvent


@dataclass(frozen=True)
class Wait:
    seconds: int
    from_this_network: bool  # the per-address cap, across accounts


def wait_before_attempt(email: str, network: str, now: datetime) -> Wait | None:
    """How long `network` must wait before trying a password for `email`, if at all."""
    cfg = current_app.config
    last_success = db.session.scalar(
        select(func.max(LoginEvent.at)).where(
            LoginEvent.email == email,
            LoginEvent.network == network,
            LoginEvent.success.is_(True),
        )
    )
    known_place = last_success is not None and now - last_success <= cfg["LOGIN_KNOWN_NETWORK_AGE"]
    if not known_place and (crowded := _network_wait(network, now)) is not None:
        return Wait(_whole_seconds(crowded), from_this_network=True)
    window_start = now - cfg["LOGIN_THROTTLE_WINDOW"]
    since = max(window_start, last_success) if last_success else window_start
    pair = _failures(now, since, LoginEvent.email == email, LoginEvent.network == network)
    wait = _growing_wait(*pair, free=cfg["LOGIN_FREE_FAILURES"], now=now)
    if wait is None and not known_place:
        account = _failures(now, window_start, LoginEvent.email == email)
        wait = _growing_wait(*account, free=cfg["LOGIN_ACCOUNT_FREE_FAILURES"], now=now)
    return None if wait is None else Wait(_whole_seconds(wait), from_this_network=False)


def _network_wait(network: str, now: datetime) -> timedelta | None:
    cfg = current_app.config
    window: timedelta = cfg["LOGIN_IP_WINDOW"]
    count, oldest = db.session.execute(
        select(func.count(LoginEvent.id), func.min(LoginEvent.at)).where(
            LoginEvent.network == network,
            LoginEvent.success.is_(False),
            LoginEvent.at >= now - window,
        )
    ).one()
    if count < cfg["LOGIN_IP_MAX_FAILURES"] or oldest is None:
        return None
    return max(oldest + window - now, timedelta(seconds=1))


def _failures(
    now: datetime, since: datetime, *where: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many failed attempts match, since `since`, and when the last one was."""
    count, last = db.session.execute(
        select(func.count(LoginEvent.id), func.max(LoginEvent.at)).where(
            LoginEvent.success.is_(False), LoginEvent.at >= since, LoginEvent.at <= now, *where
        )
    ).one()
    return count, last


def _growing_wait(
    failures: int, last_failure: datetime | None, *, free: int, now: datetime
) -> timedelta | None:
    if failures <= free or last_failure is None:
        return None
    cfg = current_app.config
    doublings = min(failures - free - 1, 20)  # 2**20 first delays is far past the cap
    delay = min(cfg["LOGIN_FIRST_DELAY"] * (1 << doublings), cfg["LOGIN_MAX_DELAY"])
    remaining = last_failure + delay - now
    return remaining if remaining > timedelta(0) else None


def _whole_seconds(wait: timedelta) -> int:
    return max(1, ceil(wait.total_seconds()))
