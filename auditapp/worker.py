"""The background-job worker: ``flask --app auditapp jobs worker``.

An RQ worker on the app's queue, with RQ's scheduler (the retry intervals of
jobs.py need it), that outlives Redis outages: RQ's own loop quits when it loses
Redis; this one waits for Redis, pausing longer each time (up to 30 s), and starts
again. Every minute it also queues the mail whose job never reached Redis
(services/mail.retry_due), so mail written during an outage goes out within minutes
of Redis coming back. SIGTERM or Ctrl+C stops it after the running job (RQ's warm
shutdown). Run it under a supervisor all the same (docs/deploy/auditapp-worker.service).
"""

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker
from rq.exceptions import StopRequested

from . import create_app
from .extensions import db
from .jobs import QUEUE, call, redis_connection
from .services.core import mail

log = logging.getLogger(__name__)

LONGEST_PAUSE = 30.0


class _Worker(Worker):
    """Remembers that it was asked to stop, however RQ's loop ended."""

    stop_requested = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # rq: unannotated


_worker_app: Flask | None = None


def run_job(path: str, *args: Any) -> None:
    """Entry point of an RQ job (jobs.RUN_JOB): runs one job in the app."""
    if _worker_app is None:  # a plain `rq worker`
        with create_app().app_context():
            call(path, args)
        return
    with _worker_app.app_context():
        # The pooled connections came over the fork and belong to the worker.
        db.engine.dispose(close=False)
        call(path, args)


def run(app: Flask, burst: bool = False) -> None:
    # Each job runs in a fork of this worker, which then finds the app built and its
    # modules imported instead of spending a second or more building its own.
    global _worker_app
    _worker_app = app
    stopping = threading.Event()
    relay = threading.Thread(target=_relay, args=(app, stopping), name="mail-relay", daemon=True)
    relay.start()
    pause = 1.0
    try:
        while not stopping.is_set():
            started, worker = time.monotonic(), None
            try:  # RQ's Worker talks to Redis as it is made, so that is tried here too
                worker = _Worker([QUEUE], connection=redis_connection(app.config["REDIS_URL"]))
                worker.work(burst=burst, with_scheduler=not burst)
            except StopRequested:
                return
            except (RedisConnectionError, RedisTimeoutError) as error:
                log.warning("Redis is unreachable (%s); the worker starts again", error)
            if burst or (worker is not None and worker.stop_requested):
                return
            if time.monotonic() - started > LONGEST_PAUSE:  # it ran a while: a new outage
                pause = 1.0
            _wait(pause, stopping)
            pause = min(pause * 2, LONGEST_PAUSE)
    finally:
        stopping.set()


def _wait(seconds: float, stopping: threading.Event) -> None:
    """Sleeps between two tries, ending at once on SIGTERM or Ctrl+C."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    try:
        stopping.wait(seconds)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _relay(app: Flask, stopping: threading.Event) -> None:
    while not stopping.wait(float(app.config["JOBS_RELAY_SECONDS"])):
        with app.app_context():
            try:
                if queued := mail.retry_due():
                    log.info("queued %d waiting mail again", queued)
                db.session.commit()  # the jobs are handed over after the commit
            except Exception:
                log.exception("the mail relay failed; it tries again in a minute")
                db.session.rollback()
            finally:
                db.session.remove()
