"""Browser tests: headless Chromium (Debian's, never a Playwright download) driving the
app served by a separate process with its own fresh SQLite database.

The server is a subprocess, so the browser sees exactly what a user would: the real
migrations, the demo data, real sessions and CSRF. Tests here never import app objects;
the suite-wide transaction fixture in tests/conftest.py does not reach the subprocess.

The database is migrated with ``flask db upgrade`` and seeded by seed.py (two clients,
an admin and a coordinator with the demo's logins).

Fixtures: ``live_server`` (base URL, one server per session), ``browser``,
``desk_page`` (1280×900) and ``phone_page`` (390×844, touch), ``sign_in`` and
``artifacts`` (the git-ignored test-artifacts/ folder for screenshots).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
DEMO_PASSWORD = "demo-password-2026"
COORDINATOR = "coordinator@demo.auditapp.cn"
ADMIN = "admin@demo.auditapp.cn"
START_TIMEOUT = 30  # seconds for the server to answer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # CI must never pass by skipping: there a missing browser fails the browser tests.
    if Path(CHROMIUM).exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (make browser)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _step(env: dict[str, str], command: list[str], log: Path) -> None:
    """One preparation step (migrate, seed); its output goes to the server log."""
    with log.open("a") as out:
        done = subprocess.run(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=120
        )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{log.read_text()[-4000:]}")


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the live server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"no answer from the live server in {START_TIMEOUT}s:\n{log.read_text()}")


def _suite_day() -> str | None:
    """The faketime start for AUDITAPP_TEST_NOW (see tests/conftest.py), if it is set."""
    moment = os.environ.get("AUDITAPP_TEST_NOW")
    if not moment:
        return None
    return "@" + datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@contextmanager
def serve(
    home: Path, seed: list[list[str]], fake_time: str | None = None
) -> Iterator[SimpleNamespace]:
    """A fresh app in `home`: migrated, seeded by the `seed` commands, served by a
    subprocess with its own SQLite file. Yields its url, database path and log.
    With `fake_time` (a faketime start such as "@2027-12-31 15:45:00", read as UTC)
    every step and the server run from that moment on, as they would on a machine
    whose clock says so."""
    fake_time = fake_time or _suite_day()
    wrap = ["faketime", "-f", fake_time] if fake_time else []
    log, database = home / "server.log", home / "live.sqlite3"
    env = {
        **os.environ,
        "AUDITAPP_DATABASE_URL": "sqlite:///" + str(database),
        "AUDITAPP_SECRET_KEY": "e2e-secret-key",
        "AUDITAPP_UPLOAD_FOLDER": str(home / "uploads"),
        "AUDITAPP_LOGIN_IP_MAX_FAILURES": "1000",
        "PYTHONUNBUFFERED": "1",
        "TZ": "UTC",
        # faketime shifts the wall clock only: with a faked monotonic clock, timers
        # (the rate limiter's expiry thread) never fire and the process never exits.
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FLASK_DEBUG": "0",
    }
    env.pop("AUDITAPP_TEST_DATABASE_URL", None)
    _step(env, [*wrap, FLASK, "--app", "auditapp", "db", "upgrade"], log)
    for command in seed:
        _step(env, [*wrap, *command], log)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        process = subprocess.Popen(
            [*wrap, FLASK, "--app", "auditapp", "run", "--host", "127.0.0.1", "--port", str(port),
             "--no-reload", "--no-debugger", "--with-threads"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_up(url, process, log)
        yield SimpleNamespace(url=url, database=database, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SEED = [sys.executable, str(Path(__file__).with_name("seed.py"))]
DEMO = [FLASK, "--app", "auditapp", "demo"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh app with the small shared seed (clients, admin, coordinator)."""
    with serve(tmp_path_factory.mktemp("live"), [SEED]) as server:
        yield server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, live_server: str, **context_options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="en-GB", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def console(message: Any) -> None:
        # CSP violations and script errors count; a missing favicon does not.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(message.text)

    page.on("console", console)
    page.js_problems = problems  # tests may assert the page ran without script errors
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def desk_page(browser: Any, live_server: str) -> Iterator[Any]:
    yield from _page(browser, live_server, viewport={"width": 1280, "height": 900})


# A phone: 390×844, touch, a high-density screen.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture
def phone_page(browser: Any, live_server: str) -> Iterator[Any]:
    yield from _page(browser, live_server, **PHONE)


@pytest.fixture
def sign_in() -> Callable[..., None]:
    def sign_in(page: Any, email: str = COORDINATOR, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, "sign-in failed"

    return sign_in


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
