"""Background jobs. With AUDITAPP_REDIS_URL set they go to RQ workers
(`rq worker auditapp`), each allowed JOB_TIMEOUT_SECONDS; otherwise they run in a
small in-process thread pool, or inline when JOBS_MODE is "inline" (tests). Jobs are
handed over only after the request's transaction commits, so a job never looks for
rows that are not there yet.
"""

import importlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="auditapp-job")
_PENDING = "auditapp_pending_jobs"


def _mode(app: Flask) -> str:
    return str(app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "thread"))


def enqueue(path: str, *args: Any) -> None:
    """Run the function at `path` ("auditapp.services.mail:deliver") after commit;
    inline mode runs it at once, inside the caller's transaction."""
    func = _resolve(path)
    if _mode(current_app) == "inline":
        func(*args)
        return
    db.session.info.setdefault(_PENDING, []).append((path, args))


def _resolve(path: str) -> Callable[..., Any]:
    module, _sep, name = path.partition(":")
    if not module.startswith("auditapp."):
        raise ValueError(f"not a job: {path}")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


def run_job(path: str, *args: Any) -> None:
    """Entry point in a worker process: builds the app and runs one job in it."""
    from . import create_app

    with create_app().app_context():
        _call(path, args)


def _call(path: str, args: tuple[Any, ...]) -> None:
    try:
        _resolve(path)(*args)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def _dispatch(app: Flask, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
    mode = _mode(app)
    for path, args in jobs:
        if mode == "rq":
            from redis import Redis
            from rq import Queue, Retry

            queue = Queue("auditapp", connection=Redis.from_url(app.config["REDIS_URL"]))
            queue.enqueue(
                run_job,
                path,
                *args,
                retry=Retry(max=3, interval=[10, 60, 300]),
                job_timeout=int(app.config["JOB_TIMEOUT_SECONDS"]),
            )
        else:
            _pool.submit(_in_app, app, path, args)


def _in_app(app: Flask, path: str, args: tuple[Any, ...]) -> None:
    with app.app_context():
        try:
            _call(path, args)
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
