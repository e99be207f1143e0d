"""The app asks one clock (auditapp/clock.py), so a test or the demo can set the day
the whole app sees: no module outside it reads the system clock, and neither do the
tests and benchmarks (they build their data around the app's now)."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from auditapp import clock
from auditapp.models import utcnow

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_CLOCK = re.compile(r"\b(datetime\.(now|utcnow|today)|date\.today|time\.time)\(")


def test_no_module_but_the_clock_reads_the_system_clock():
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("auditapp", "forms", "reports", "scoring", "tests", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name not in ("clock.py", "test_one_clock.py") and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SYSTEM_CLOCK.search(line)
    ]
    assert readers == []


def test_frozen_clock_stops_and_restores():
    moment = datetime(2028, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    before = utcnow()  # the suite itself may run on a travelled clock (AUDITAPP_TEST_NOW)
    with clock.frozen_at(moment):
        assert utcnow() == moment and utcnow().tzinfo == UTC
        assert clock.today() == moment.astimezone(UTC).date()
        assert clock.today(moment.tzinfo) == moment.date()  # 29 Feb in the store's zone
    assert timedelta(0) <= utcnow() - before < timedelta(minutes=1)


def test_travelled_clock_runs_on_from_the_moment_given():
    moment = datetime(2029, 12, 31, 15, 59, 59, tzinfo=UTC)
    before = utcnow()
    with clock.travel_to(moment):
        first = utcnow()
        assert timedelta(0) <= first - moment < timedelta(minutes=1)
        assert utcnow() >= first
    assert timedelta(0) <= utcnow() - before < timedelta(minutes=1)


def test_clock_refuses_a_naive_moment():
    with pytest.raises(ValueError, match="aware"), clock.frozen_at(datetime(2027, 1, 1)):
        pass
