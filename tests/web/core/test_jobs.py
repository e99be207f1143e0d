"""Background jobs in RQ mode reach a real Redis only after the commit, with a timeout
long enough for a PDF batch part (RQ's own default of 180 s is not) and retries."""

from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from rq import Queue

from auditapp.extensions import db
from auditapp.jobs import enqueue
from auditapp.worker import run_job
from tests.web.worlds.jobs import TEST_REDIS_URL


@pytest.fixture
def queue(app: Flask) -> Iterator[Queue]:
    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    app.config.update(JOBS_MODE="rq", REDIS_URL=TEST_REDIS_URL, JOB_TIMEOUT_SECONDS=1234)
    try:
        yield Queue("auditapp", connection=connection)
    finally:
        app.config.update(JOBS_MODE="inline", REDIS_URL="", JOB_TIMEOUT_SECONDS=3600)
        connection.flushdb()


def test_a_job_is_queued_after_the_commit_with_its_timeout_and_retries(
    app: Flask, queue: Queue
) -> None:
    with app.test_request_context():
        enqueue("auditapp.services.core.mail:deliver", 42)
        assert queue.count == 0  # nothing leaves before the transaction commits
        db.session.commit()
    (job,) = queue.get_jobs()
    assert job.func_name == "auditapp.worker.run_job"
    assert job.func is run_job
    assert job.args == ("auditapp.services.core.mail:deliver", 42)
    assert job.timeout == 1234
    assert job.retries_left == 3
