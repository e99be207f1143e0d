"""Background jobs. With AUDITAPP_REDIS_URL set they go to RQ workers
(`flask --app auditapp jobs worker`, see worker.py), each allowed
JOB_TIMEOUT_SECONDS; otherwise they run in a small in-process thread pool, or inline
when JOBS_MODE is "inline" (tests). Jobs are handed over only after the request's
transaction commits, so a job never looks for rows that are not there yet.

Handing a job over can fail (Redis down). What the request did is committed by then,
so the failure is logged and never turns the request into an error: mail is queued
again from its outbox (services/mail.retry_due, run by the worker every minute).
"""

import functools
import importlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="auditapp-job")
_PENDING = "auditapp_pending_jobs"
QUEUE = "auditapp"
RUN_JOB = "auditapp.worker.run_job"  # what an RQ job calls: by name, so this module
# need not import the worker, which builds an app


def _mode(app: Flask) -> str:
    return str(app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "thread"))


@dataclass(frozen=True)
class _Job:
    path: str
    args: tuple[Any, ...]
    job_id: str | None


def enqueue(path: str, *args: Any, job_id: str | None = None) -> None:
    """Run the function at `path` ("auditapp.services.core.mail:deliver") after commit;
    inline mode runs it at once, inside the caller's transaction. A ``job_id`` names
    the job in RQ: while a job of that name waits or runs, queueing it again does
    nothing, so a sweep that re-queues lost work cannot pile up copies."""
    func = _resolve(path)
    if _mode(current_app) == "inline":
        func(*args)
        return
    db.session.info.setdefault(_PENDING, []).append(_Job(path, args, job_id))


def _resolve(path: str) -> Callable[..., Any]:
    module, _sep, name = path.partition(":")
    if not module.startswith("auditapp."):
        raise ValueError(f"not a job: {path}")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


def call(path: str, args: tuple[Any, ...]) -> None:
    try:
        _resolve(path)(*args)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


@functools.cache
def redis_connection(url: str) -> Redis:
    """One client per process (it pools its connections and is thread-safe), giving
    up quickly on an unreachable server: a request must not hang on a job it cannot
    hand over."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def _dispatch(app: Flask, jobs: list[_Job]) -> None:
    mode = _mode(app)
    queue = (
        Queue(QUEUE, connection=redis_connection(app.config["REDIS_URL"])) if mode == "rq" else None
    )
    for job in jobs:
        try:
            if queue is None:
                _pool.submit(_in_app, app, job.path, job.args)
            elif not (job.job_id and _waiting_or_running(queue, job.job_id)):
                queue.enqueue(
                    RUN_JOB,
                    job.path,
                    *job.args,
                    job_id=job.job_id,
                    retry=Retry(max=3, interval=[10, 60, 300]),
                    job_timeout=int(app.config["JOB_TIMEOUT_SECONDS"]),
                )
        except Exception:
            app.logger.exception("background job %s could not be queued", job.path)


_PENDING_STATES = {
    JobStatus.CREATED,
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
}


def _waiting_or_running(queue: Queue, job_id: str) -> bool:
    try:
        return Job.fetch(job_id, connection=queue.connection).get_status() in _PENDING_STATES
    except NoSuchJobError:
        return False


def _in_app(app: Flask, path: str, args: tuple[Any, ...]) -> None:
    with app.app_context():
        try:
            call(path, args)
        except Exception:
            app.logger.exception("background job %s failed", path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    jobs = session.info.pop(_PENDING, None)
    if jobs:
        _dispatch(current_app._get_current_object(), jobs)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """The transaction's jobs go with it; a rolled-back savepoint (a refused step the
    request recovers from) keeps the jobs queued before it, whose rows will commit."""
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
