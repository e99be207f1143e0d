"""The browser tests' set-up holds on any day: the migrations and both seeds load, and
the server answers, on machines whose clocks say it is an awkward day (faketime
changes the clock of the whole process, the database included). The full demo is
loaded under faked days by test_shopboard.py and test_review_flow.py, and under the
app's own clock on many more days by tests/web/demo/test_demo_review.py."""

import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import SEED, serve

pytestmark = pytest.mark.e2e

SEED_VISIT_FORM = [sys.executable, str(Path(__file__).with_name("seed_visit_form.py"))]
DAYS = {
    "quarter-end-late": "@2027-03-31 15:59:00",  # 23:59 in Shanghai
    "after-midnight-in-shanghai": "@2027-04-30 16:30:00",  # 1 May, 00:30 in Shanghai
    "national-holiday": "@2027-10-04 02:00:00",
    "sunday": "@2027-06-06 01:00:00",
}


@pytest.mark.parametrize("fake_time", DAYS.values(), ids=DAYS.keys())
def test_browser_test_seeds_load_and_serve_on_awkward_days(tmp_path: Path, fake_time: str) -> None:
    with serve(tmp_path, [SEED, SEED_VISIT_FORM], fake_time=fake_time) as server:
        with urllib.request.urlopen(server.url + "/login", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        assert "Traceback" not in server.log.read_text()
