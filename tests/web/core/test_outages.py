"""Outages. Redis down: what a request saved stays saved and says so, the mail it
wrote goes out once Redis is back, and the job worker is still running afterwards
(jobs.py, worker.py, services/mail.retry_due). The database gone: 503, try again."""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from auditapp import clock
from auditapp.extensions import db
from auditapp.jobs import enqueue
from auditapp.models import OutboxMail
from auditapp.models.waves import RETURNED
from tests.conftest import csrf_token, login
from tests.web.worlds.jobs import TEST_REDIS_URL
from tests.web.worlds.review import post, reload, submitted, url
from tests.web.worlds.review import w as w  # noqa: F401 (the review world fixture)

NOBODY_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: connection refused
FLASK = [sys.executable, "-m", "flask", "--app", "auditapp"]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def redis_down(app: Flask) -> Iterator[None]:
    app.config.update(JOBS_MODE="rq", REDIS_URL=NOBODY_LISTENS)
    try:
        yield
    finally:
        app.config.update(JOBS_MODE="inline", REDIS_URL="")


def test_returning_a_visit_with_redis_down_answers_the_normal_page(
    client, w, redis_down, caplog
) -> None:
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    with caplog.at_level(logging.ERROR):
        response = post(client, url(visit, "return"), note="Add the receipt")
    assert response.status_code == 302 and response.location.endswith("/review/")
    assert reload(visit).status == RETURNED
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to == w.ann.user.email)).one()
    assert mail.sent_at is None and mail.attempts == 0  # waiting in the outbox
    assert "could not be queued" in caplog.text


@pytest.fixture
def failing_return(app: Flask) -> Iterator[list[bool]]:
    """The return view fails, after doing its work when the list holds True."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    original = app.view_functions["review.return_visit"]
    work_first: list[bool] = []

    def fails(*args: object, **kwargs: object) -> object:
        if work_first:
            original(*args, **kwargs)
        raise RuntimeError("a failure of our own")

    app.view_functions["review.return_visit"] = fails
    try:
        yield work_first
    finally:
        app.view_functions["review.return_visit"] = original
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_a_failure_after_the_commit_does_not_say_nothing_was_saved(
    client, w, failing_return
) -> None:
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    failing_return.append(True)
    page = post(client, url(visit, "return"), note="Add the receipt")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "after your changes were saved" in text and "Nothing you entered" not in text
    assert reload(visit).status == RETURNED


def test_a_script_asking_for_json_gets_json_on_every_error(client, w, failing_return) -> None:
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    json_only = {"Accept": "application/json"}
    failed = client.post(
        url(visit, "return"), headers=json_only, data={"csrf_token": csrf_token(client)}
    )
    assert failed.status_code == 500 and failed.is_json
    assert failed.get_json() == {
        "ok": False,
        "error": "Something went wrong on our side. Nothing you entered was saved.",
    }
    forged = client.post(url(visit, "return"), headers=json_only, data={"note": "x"})
    assert forged.status_code == 400
    assert forged.get_json() == {
        "ok": False,
        "error": "Your session has expired. Reload the page and try again.",
    }
    missing = client.get("/review/visits/999999", headers=json_only)
    assert missing.status_code == 404 and missing.is_json


def test_mail_queued_twice_while_its_job_waits_is_one_job(app: Flask) -> None:
    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    app.config.update(JOBS_MODE="rq", REDIS_URL=TEST_REDIS_URL)
    try:
        for _ in range(2):
            with app.test_request_context():
                enqueue("auditapp.services.core.mail:deliver", 7, job_id="mail-7")
                db.session.commit()
        assert Queue("auditapp", connection=connection).count == 1
    finally:
        app.config.update(JOBS_MODE="inline", REDIS_URL="")
        connection.flushdb()


# --- the worker through an outage, as separate processes ------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    _until(lambda: _pings(port), 10, "redis-server did not start")
    return server


def _pings(port: int) -> bool:
    try:
        return bool(Redis(port=port, socket_connect_timeout=0.2).ping())
    except Exception:
        return False


def _until(check: object, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(message)


def _stranded_mail(engine: Engine) -> int:
    """A mail written while Redis was down: in the outbox, its job never queued."""
    written = clock.utcnow() - timedelta(minutes=3)
    with engine.begin() as conn:
        values = {"to": "stranded@example.com", "subject": "Hello", "body": "Waiting"}
        result = conn.execute(insert(OutboxMail).values(created_at=written, **values))
        return int(result.inserted_primary_key[0])


def _sent(engine: Engine, mail_id: int) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(OutboxMail.sent_at).where(OutboxMail.id == mail_id)) is not None


def test_the_worker_survives_a_redis_outage_and_sends_the_mail_written_meanwhile(
    tmp_path: Path,
) -> None:
    port = _free_port()
    database = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    env = {
        **os.environ,
        "AUDITAPP_DATABASE_URL": database,
        "AUDITAPP_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "AUDITAPP_SECRET_KEY": "test-secret",
        "AUDITAPP_JOBS_RELAY_SECONDS": "1",
    }
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    engine = create_engine(database)
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([*FLASK, "jobs", "worker"], env=env, cwd=ROOT, stderr=log, stdout=log)
    redis = None
    try:
        time.sleep(8)  # the worker starts while Redis is still down, and must wait for it
        assert worker.poll() is None, "the worker gave up before Redis started"
        redis = _start_redis(port, tmp_path)
        _until(lambda: Redis(port=port).scard("rq:workers") > 0, 90, "the worker did not start")
        redis.terminate()
        redis.wait(timeout=10)
        time.sleep(4)  # the outage: RQ's own loop quits here
        mail_id = _stranded_mail(engine)
        redis = _start_redis(port, tmp_path)
        _until(lambda: _sent(engine, mail_id), 90, "the stranded mail was not sent")
        assert worker.poll() is None, "the worker died in the outage"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        engine.dispose()
        log.close()


def test_the_database_gone_answers_503_try_again(app, client, w) -> None:
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    original = app.view_functions["review.return_visit"]

    def database_gone(*_args: object, **_kwargs: object) -> object:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    app.view_functions["review.return_visit"] = database_gone
    try:
        page = post(client, url(visit, "return"), note="Add the receipt")
        script = client.post(
            url(visit, "return"),
            headers={"Accept": "application/json"},
            data={"csrf_token": csrf_token(client)},
        )
    finally:
        app.view_functions["review.return_visit"] = original
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "briefly unavailable" in page.get_data(as_text=True)
    assert script.status_code == 503 and script.get_json()["ok"] is False


def test_with_the_database_gone_even_the_error_page_answers(app, client, w, monkeypatch) -> None:
    """Finding the reader's language reads the signed-in user from the database: when
    that fails too, the answer is a plain 503, still with Retry-After."""
    from auditapp import errors

    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    original = app.view_functions["review.return_visit"]

    def ends_reading_then_fails(*_args: object, **_kwargs: object) -> object:
        db.session.commit()  # ends a reading transaction: nothing was saved
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    def no_page(*_args: object, **_kwargs: object) -> str:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    app.view_functions["review.return_visit"] = ends_reading_then_fails
    try:
        translated = post(client, url(visit, "return"), note="x")
        monkeypatch.setattr(errors, "render_template", no_page)
        plain = post(client, url(visit, "return"), note="x")
    finally:
        app.view_functions["review.return_visit"] = original
    assert translated.status_code == 503
    assert "Nothing you entered was saved" in translated.get_data(as_text=True)
    assert plain.status_code == 503 and plain.headers["Retry-After"] == "5"
    assert plain.mimetype == "text/plain"
    assert plain.get_data(as_text=True).startswith("The service is briefly unavailable.")
