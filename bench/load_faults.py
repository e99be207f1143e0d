"""The fault scenarios of bench/load.py, each run beside the shoppers, started when the
load has reached the step it is about:

- ``plain``: no fault.
- ``kill-worker``: while submissions are in flight, `kill -9` one gunicorn worker, three
  times, 5 s apart; gunicorn starts new ones, the phones send again what failed.
- ``postgres-down``: once a quarter of the photos are in, stop the private PostgreSQL
  (fast shutdown) for 10 s, then start it again.
- ``redis-down``: once the reviewer has returned a few visits (mail is flowing), stop the
  private Redis for 10 s and start it again from its append-only file; afterwards
  check that the job worker still runs, and wait for the mail until none has gone out
  for four minutes (other scenarios: two and a half).
- ``drop-upload``: every third shopper's first photo is cut off halfway (the
  connection closed mid-body) before the phone sends it again in full.
- ``stall-upload``: a dozen raw connections send an upload's headers and half its
  body, then nothing for 30 s, while `GET /login` is probed every 0.5 s from new
  connections; passes when every probe during the stall is answered within 1 s.

Blocking steps (pg_ctl, waiting for processes) run in threads, so the shoppers'
event loop never pauses for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from load_deploy import Deployment
from load_shopper import Phone, Run

SCENARIOS = ("plain", "kill-worker", "postgres-down", "redis-down", "drop-upload", "stall-upload")
NEEDS_POSTGRES = ("postgres-down", "redis-down")
OUTAGE_SECONDS = 10.0
KILLS = 3
STALLERS = 12
STALL_SECONDS = 30.0
PROBE_EVERY = 0.5
PROBE_LIMIT = 1.0  # the pass mark of the stall scenario
PROBE_TIMEOUT = 15.0


@dataclass
class Fault:
    name: str
    notes: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, passed, detail)
    windows: list[tuple[float, float, str]] = field(default_factory=list)  # seconds of the run
    probes: list[tuple[float, float | None]] = field(default_factory=list)  # (at, latency)
    # After the load, wait for mail as long as one goes out this often: longer than the
    # worker's relay of mail whose job never reached Redis (every minute).
    mail_wait: float = 150.0

    def note(self, run: Run, text: str) -> None:
        self.notes.append(f"t={run.stats.now():6.1f} s  {text}")


async def wait_for(run: Run, condition: Callable[[], bool], timeout: float = 600.0) -> bool:
    """True once ``condition`` holds; False when the shoppers finished first or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not run.shoppers_done.is_set():
        if condition():
            return True
        await asyncio.sleep(0.1)
    return False


async def run_fault(name: str, deploy: Deployment, run: Run, shoppers: int) -> Fault:
    fault = Fault(name)
    if name == "kill-worker":
        await _kill_worker(fault, deploy, run)
    elif name == "postgres-down":
        await _postgres_down(fault, deploy, run, shoppers)
    elif name == "redis-down":
        fault.mail_wait = 240.0
        await _redis_down(fault, deploy, run, shoppers)
    elif name == "drop-upload":
        await run.shoppers_done.wait()
        fault.note(run, f"{run.dropped} uploads cut off halfway, each sent again in full")
    elif name == "stall-upload":
        await _stall_upload(fault, deploy, run)
    return fault


async def _kill_worker(fault: Fault, deploy: Deployment, run: Run) -> None:
    inflight = run.stats.inflight
    for _kill in range(KILLS):
        if not await wait_for(run, lambda: inflight["submit"] + inflight["submit again"] >= 2):
            fault.note(run, "the shoppers finished before another submit was in flight")
            break
        workers = deploy.gunicorn_workers()
        if not workers:
            fault.note(run, "no gunicorn worker found")
            break
        victim = random.choice(workers)  # noqa: S311
        busy = inflight["submit"] + inflight["submit again"]
        os.kill(victim, signal.SIGKILL)
        at = run.stats.now()
        fault.windows.append((at, at, f"kill -9 worker {victim}"))
        fault.note(run, f"kill -9 gunicorn worker {victim} with {busy} submits in flight")
        await asyncio.sleep(5.0)
    await asyncio.sleep(5.0)
    workers = deploy.gunicorn_workers()
    fault.checks.append(
        (
            "gunicorn replaced the killed workers",
            len(workers) == deploy.workers,
            f"{len(workers)} of {deploy.workers} workers running",
        )
    )


async def _postgres_down(fault: Fault, deploy: Deployment, run: Run, shoppers: int) -> None:
    wanted = max(1, shoppers * 2 // 4)  # a quarter of the photos
    if not await wait_for(run, lambda: len(run.uploaded) >= wanted):
        fault.note(run, "the shoppers finished before a quarter of the photos were in")
        return
    start = run.stats.now()
    fault.note(run, f"stopping PostgreSQL ({len(run.uploaded)} photos in)")
    await asyncio.to_thread(deploy.stop_postgres, "fast")
    await asyncio.sleep(OUTAGE_SECONDS)
    fault.note(run, "starting PostgreSQL")
    await asyncio.to_thread(deploy.start_postgres)
    fault.windows.append((start, run.stats.now(), "PostgreSQL down"))
    fault.note(run, "PostgreSQL accepts connections again")


async def _redis_down(fault: Fault, deploy: Deployment, run: Run, shoppers: int) -> None:
    # Returns follow the shoppers' last steps, which come in a wave: waiting for a few
    # puts the outage where mail is being queued.
    wanted = max(1, shoppers // 20)
    if not await wait_for(run, lambda: len(run.returned) >= wanted):
        fault.note(run, f"the shoppers finished before the reviewer returned {wanted} visits")
        return
    start = run.stats.now()
    fault.note(run, f"stopping Redis ({len(run.returned)} visits returned so far)")
    await asyncio.to_thread(deploy.stop_redis)
    returned = len(run.returned)
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(deploy.start_redis)
    fault.windows.append((start, run.stats.now(), "Redis down"))
    fault.note(run, f"Redis is back; {len(run.returned) - returned} visits returned meanwhile")
    await asyncio.sleep(5.0)
    alive = deploy.alive("worker")
    fault.note(run, f"job worker {'still running' if alive else 'has exited'} 5 s after")
    await run.shoppers_done.wait()
    alive = deploy.alive("worker")
    fault.checks.append(
        (
            "the job worker survived the Redis outage",
            alive,
            "running" if alive else f"exited (code {deploy.procs['worker'].poll()}); see its log",
        )
    )


async def _stall_upload(fault: Fault, deploy: Deployment, run: Run) -> None:
    """Signs in the stallers first (their own sessions of the first shoppers), probes
    from the start, stalls once half the shoppers are signed in."""
    stop = asyncio.Event()
    probing = asyncio.create_task(_probe(fault, run, stop))
    shoppers = run.data["shoppers"][:STALLERS]
    phones = [Phone(run) for _n in shoppers]
    try:
        # Their own sessions of the first shoppers; any signed-in page has the token.
        signed_in = await asyncio.gather(
            *(
                _sign_in(phone, me["email"], run.data["password"])
                for phone, me in zip(phones, shoppers, strict=True)
            )
        )
        if not all(signed_in):
            fault.note(run, f"{signed_in.count(False)} stallers could not sign in")
        half = len(run.data["shoppers"]) // 2
        await wait_for(run, lambda: run.progress["signed in"] >= half)
        writers = []
        question = run.data["photo_questions"][0]
        for n, (phone, me) in enumerate(zip(phones, shoppers, strict=True)):
            photo, upload_id = run.photos[n % len(run.photos)], f"stall-{uuid.uuid4()}"
            try:
                writers.append(
                    await phone.partial_upload(int(me["visit_id"]), photo, upload_id, question)
                )
            except OSError as error:
                fault.note(run, f"staller {n} could not connect: {error}")
        start = run.stats.now()
        fault.note(run, f"{len(writers)} uploads stalled halfway")
        await asyncio.sleep(STALL_SECONDS)
        for writer in writers:
            writer.close()
        end = run.stats.now()
        fault.windows.append((start, end, f"{len(writers)} uploads stalled"))
        fault.note(run, "stalled connections closed")
        await asyncio.sleep(5.0)
    finally:
        stop.set()
        await probing
        for phone in phones:
            await phone.client.aclose()
    during = [lat for at, lat in fault.probes if fault.windows and _inside(at, fault.windows[0])]
    slow = [lat for lat in during if lat is None or lat > PROBE_LIMIT]
    fault.checks.append(
        (
            f"every GET /login during the stall answered within {PROBE_LIMIT:g} s",
            bool(during) and not slow,
            f"{len(during) - len(slow)} of {len(during)} probes in time",
        )
    )


async def _sign_in(phone: Phone, email: str, password: str) -> bool:
    if not await phone.sign_in(email, password):
        return False
    return await phone.page_token("/my/", "my visits") is not None


def _inside(at: float, window: tuple[float, float, str]) -> bool:
    return window[0] <= at <= window[1]


async def _probe(fault: Fault, run: Run, stop: asyncio.Event) -> None:
    """GET /login every PROBE_EVERY s, each on a new connection, each on its own so a
    hanging probe does not delay the next."""

    async def one() -> None:
        at = run.stats.now()
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(base_url=run.base_url, timeout=PROBE_TIMEOUT) as client:
                response = await client.get("/login")
            ok = response.status_code == 200
            latency: float | None = time.monotonic() - started if ok else None
        except httpx.HTTPError:
            latency = None
        fault.probes.append((at, latency))

    tasks = []
    while not stop.is_set():
        tasks.append(asyncio.create_task(one()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROBE_EVERY)
    await asyncio.gather(*tasks)
