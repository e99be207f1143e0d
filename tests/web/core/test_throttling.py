"""Failed sign-ins slow down whoever fails, never lock out the owner, and say nothing
about which e-mail addresses have accounts: same message, same hashing work."""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from auditapp.clock import frozen_at
from auditapp.extensions import db
from auditapp.models import LoginEvent
from auditapp.networks import network_of
from tests.conftest import PASSWORD, csrf_token

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ATTACKER = "198.51.100.66"
OWNER = "203.0.113.7"


@pytest.fixture
def user(make_user):
    return make_user("ana@example.com", "coordinator", name="Ana")


def sign_in(app, email, password=PASSWORD, ip=OWNER):
    browser = app.test_client()
    return browser.post(
        "/login",
        data={"csrf_token": csrf_token(browser), "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def failures(count, *emails, ips):
    """Failed sign-ins as the history records them, now, for the emails and addresses
    in turn (quicker than hashing that many wrong passwords)."""
    db.session.add_all(
        LoginEvent(email=emails[n % len(emails)], ip=ips[n % len(ips)], success=False)
        for n in range(count)
    )
    db.session.flush()


@pytest.fixture
def hashing(monkeypatch):
    """Counts argon2 verifications, whatever they are checked against."""
    calls = []
    verify = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def test_the_right_password_works_from_another_address_while_one_is_throttled(app, user):
    with frozen_at(T0):
        for _ in range(8):
            sign_in(app, "ana@example.com", "guess", ip=ATTACKER)
        assert "Too many attempts" in sign_in(app, "ana@example.com", ip=ATTACKER).text
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302


def test_the_wait_doubles_with_each_further_failure(app, user):
    waits = []
    moment = T0
    for _ in range(4):
        with frozen_at(moment):
            for _ in range(4 if moment == T0 else 1):
                sign_in(app, "ana@example.com", "guess", ip=ATTACKER)
            page = sign_in(app, "ana@example.com", "guess", ip=ATTACKER).text
        seconds = int(page.split("Try again in ")[1].split(" second")[0])
        waits.append(seconds)
        moment += timedelta(seconds=seconds)
    assert waits == [2, 4, 8, 16]


def test_the_wait_never_exceeds_the_cap(app, user):
    with frozen_at(T0):
        failures(25, "ana@example.com", ips=[ATTACKER])  # 2 s doubled 21 times is weeks
        page = sign_in(app, "ana@example.com", ip=ATTACKER).text
    assert "Try again in 900 seconds." in page


def test_attempts_refused_while_waiting_try_no_password_and_are_not_recorded(app, user, hashing):
    with frozen_at(T0):
        for _ in range(4):
            sign_in(app, "ana@example.com", "guess", ip=ATTACKER)
        hashing.clear()
        before = db.session.scalar(select(func.count(LoginEvent.id)))
        sign_in(app, "ana@example.com", PASSWORD, ip=ATTACKER)
        after = db.session.scalar(select(func.count(LoginEvent.id)))
    assert hashing == []
    assert after == before


def test_a_success_starts_the_count_again(app, user):
    with frozen_at(T0):
        for _ in range(3):
            sign_in(app, "ana@example.com", "typo", ip=OWNER)
    with frozen_at(T0 + timedelta(seconds=1)):
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302
    with frozen_at(T0 + timedelta(seconds=2)):
        for _ in range(3):
            sign_in(app, "ana@example.com", "typo", ip=OWNER)
        # six failures in all, but only three since the success: no wait
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302


def test_unknown_and_known_addresses_get_the_same_answers(app, user):
    with frozen_at(T0):
        known = [sign_in(app, "ana@example.com", "guess", ip=ATTACKER).text for _ in range(5)]
        unknown = [sign_in(app, "nobody@example.com", "guess", ip=ATTACKER).text for _ in range(5)]

    def message(page):
        return re.search(r'<p class="error"[^>]*>([^<]*)<', page).group(1)

    assert [message(p) for p in known] == [message(p) for p in unknown]
    assert "do not match an active account" in known[0]
    assert "Try again in 2 seconds." in known[4]


@pytest.mark.parametrize(
    "email",
    ["ana@example.com", "nobody@example.com", "invited@example.com", "gone@example.com"],
)
def test_every_refused_sign_in_costs_one_password_hash(app, make_user, hashing, email):
    make_user("ana@example.com", "coordinator")
    make_user("invited@example.com", "coordinator").password_hash = ""  # no password yet
    make_user("gone@example.com", "coordinator", active=False)
    db.session.flush()
    response = sign_in(app, email, "not the password")
    assert "do not match an active account" in response.text
    assert len(hashing) == 1


def test_many_addresses_guessing_one_account_slow_down_new_addresses(app, user):
    with frozen_at(T0 - timedelta(days=3)):
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302
    with frozen_at(T0):
        failures(21, "ana@example.com", ips=[f"198.51.100.{n}" for n in range(21)])
        stranger = sign_in(app, "ana@example.com", "guess", ip="192.0.2.200")
        assert "Too many attempts" in stranger.text
        # where the owner signed in before, the crowd of guessers does not hold them up
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302


def test_the_per_address_cap_counts_failures_across_accounts(app, user):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    with frozen_at(T0):
        failures(limit, *(f"guess{n}@example.com" for n in range(limit)), ips=[ATTACKER])
        refused = sign_in(app, "ana@example.com", ip=ATTACKER)
    assert "Too many failed sign-ins from this network" in refused.text
    with frozen_at(T0 + app.config["LOGIN_IP_WINDOW"] + timedelta(seconds=1)):
        assert sign_in(app, "ana@example.com", ip=ATTACKER).status_code == 302


# --- a shared address (carrier NAT, a client's head office) ------------------------

OFFICE = "192.0.2.44"


def test_a_busy_shared_address_does_not_shut_out_those_who_signed_in_there_before(app, user):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    with frozen_at(T0 - timedelta(days=30)):
        assert sign_in(app, "ana@example.com", ip=OFFICE).status_code == 302
    with frozen_at(T0):
        failures(limit, *(f"guess{n}@example.com" for n in range(limit)), ips=[OFFICE])
        assert sign_in(app, "ana@example.com", ip=OFFICE).status_code == 302
        # whoever never signed in from there still waits
        stranger = sign_in(app, "nobody@example.com", "guess", ip=OFFICE)
    assert "Too many failed sign-ins from this network" in stranger.text


def test_a_sign_in_there_long_ago_no_longer_exempts_from_the_address_cap(app, user):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    age = app.config["LOGIN_KNOWN_NETWORK_AGE"]
    with frozen_at(T0 - age - timedelta(days=1)):
        assert sign_in(app, "ana@example.com", ip=OFFICE).status_code == 302
    with frozen_at(T0):
        failures(limit, *(f"guess{n}@example.com" for n in range(limit)), ips=[OFFICE])
        refused = sign_in(app, "ana@example.com", ip=OFFICE)
    assert "Too many failed sign-ins from this network" in refused.text


def test_a_sign_in_long_ago_no_longer_exempts_from_the_crowd_rule(app, user):
    age = app.config["LOGIN_KNOWN_NETWORK_AGE"]
    with frozen_at(T0 - age - timedelta(days=1)):
        assert sign_in(app, "ana@example.com", ip=OWNER).status_code == 302
    with frozen_at(T0):
        failures(21, "ana@example.com", ips=[f"198.51.100.{n}" for n in range(21)])
        assert "Too many attempts" in sign_in(app, "ana@example.com", ip=OWNER).text


def test_signing_in_from_a_shared_address_still_slows_down_repeated_failures(app, user):
    """The exemption is from the caps shared with others; guessing the owner's own
    account from the owner's office still waits like anywhere else."""
    with frozen_at(T0 - timedelta(days=1)):
        assert sign_in(app, "ana@example.com", ip=OFFICE).status_code == 302
    with frozen_at(T0):
        for _ in range(4):
            sign_in(app, "ana@example.com", "guess", ip=OFFICE)
        assert "Try again in 2 seconds." in sign_in(app, "ana@example.com", ip=OFFICE).text


# --- IPv6: a client picks any address in its /64 --------------------------------------


def in_one_64(n):
    return f"2001:db8:17:4:{n:x}::{n + 1:x}"


def test_rotating_ipv6_addresses_within_a_64_do_not_escape_the_address_cap(app, user):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    with frozen_at(T0):
        failures(
            limit,
            *(f"guess{n}@example.com" for n in range(limit)),
            ips=[in_one_64(n) for n in range(limit)],
        )
        refused = sign_in(app, "ana@example.com", ip="2001:db8:17:4:abcd:ef01:2345:6789")
        other_network = sign_in(app, "ana@example.com", ip="2001:db8:17:5::1")
    assert "Too many failed sign-ins from this network" in refused.text
    assert other_network.status_code == 302


def test_rotating_ipv6_addresses_within_a_64_do_not_escape_the_growing_wait(app, user):
    with frozen_at(T0):
        for n in range(4):
            sign_in(app, "ana@example.com", "guess", ip=in_one_64(n))
        page = sign_in(app, "ana@example.com", ip=in_one_64(99)).text
    assert "Try again in 2 seconds." in page


def test_a_sign_in_from_one_ipv6_address_makes_its_whole_64_a_known_place(app, user):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    with frozen_at(T0 - timedelta(days=1)):
        assert sign_in(app, "ana@example.com", ip=in_one_64(1)).status_code == 302
    with frozen_at(T0):
        failures(limit, *(f"guess{n}@example.com" for n in range(limit)), ips=[in_one_64(2)])
        assert sign_in(app, "ana@example.com", ip=in_one_64(3)).status_code == 302


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:17:4:a:b:c:d", "2001:db8:17:4::/64"),
        ("2001:DB8:17:4::1", "2001:db8:17:4::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "not an address"),
    ],
)
def test_addresses_count_by_their_network(address, network):
    assert network_of(address) == network


def test_the_login_history_keeps_the_full_address(app, user):
    sign_in(app, "ana@example.com", ip="2001:db8:17:4:a:b:c:d")
    event = db.session.scalars(select(LoginEvent).where(LoginEvent.user_id == user.id)).one()
    assert (event.ip, event.network) == ("2001:db8:17:4:a:b:c:d", "2001:db8:17:4::/64")


def test_a_command_under_a_frozen_clock_still_exits(tmp_path):
    # limits' in-memory store starts a non-daemon timer; under a frozen clock (faketime,
    # as the any-day checks use) it never fired and `flask demo` never exited.
    env = {**os.environ, "AUDITAPP_DATABASE_URL": f"sqlite:///{tmp_path}/frozen.sqlite3"}
    script = "from auditapp import create_app; create_app(); print('made')"
    done = subprocess.run(
        ["faketime", "2027-02-28 23:40:00", sys.executable, "-c", script],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "made"
