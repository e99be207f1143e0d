"""The demo shows every part of the product at work, on any day it is built: a queue
with flagged and clean visits, approved visits whose scores and pay came from the real
services, corrections with their reasons, a visit returned to the demo shopper, payment
runs paid and not, visits for the demo shopper to claim, and the follow-up loop
(actions in every state, appeals upheld, rejected and pending).

The demo is built under the app's clock set to awkward days: month, quarter and year
ends late in the evening in the stores' time zone (already the next day there, or
still the day before in UTC), 29 February, a Sunday, the Chinese national holiday.
Today's build is the one test_demo_today.py shares, checked there the same way."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from auditapp import clock
from tests.web.worlds.demo import (
    assert_follow_up_in_every_state,
    assert_review_queue_results_and_pay,
    assert_shopper_has_visits_to_claim,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = {
    "new-year-eve-late": datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI),
    "month-end-after-midnight": datetime(2027, 2, 1, 0, 10, tzinfo=SHANGHAI),
    "quarter-end": datetime(2027, 3, 31, 22, 0, tzinfo=SHANGHAI),
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI),
    "sunday": datetime(2027, 6, 6, 9, 0, tzinfo=SHANGHAI),
    "national-holiday": datetime(2027, 10, 3, 15, 0, tzinfo=SHANGHAI),
}


@pytest.fixture(params=list(DAYS), ids=list(DAYS))
def demo_day(request):
    moment = DAYS[request.param]
    with clock.travel_to(moment):
        yield moment


def test_demo_builds_every_part_on_any_day(app, monkeypatch, tmp_path, demo_day):
    from auditapp import demo

    monkeypatch.setattr(demo, "hash_password", lambda _password: "not-a-real-hash")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    with app.test_request_context():
        logins = demo.build_demo()
        assert clock.utcnow() >= demo_day  # built under the day it was given
        assert_review_queue_results_and_pay()
        assert_shopper_has_visits_to_claim()
        assert_follow_up_in_every_state()
        assert {role for role, _email, _password in logins} >= {"admin", "shopper"}
