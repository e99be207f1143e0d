"""Reports are pure: their tests need no app and no database.

tests/conftest.py wraps every test in a rolled-back database transaction (an autouse
fixture); overriding it here with a no-op keeps these tests fast and proves they never
touch the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _transaction() -> Iterator[None]:
    yield
