"""Requests per second of the shopper's visit form page under a crowd, beside a
hello-world app served the same way.

    .venv/bin/python bench/form_throughput.py                  # 5 runs of 5 s
    .venv/bin/python bench/form_throughput.py --runs 7 --seconds 8
    .venv/bin/python bench/form_throughput.py --app-root /tmp/oldtree --app-root .
    .venv/bin/python bench/form_throughput.py --smoke          # 1 run of 1 s, seconds

For each app root (a checkout of this repository; default: this one) it builds its
own data with that checkout's migrations and services, in a fresh SQLite file in a
temporary folder: the retail starter checklist (27 questions in 8 sections),
published; a store, a wave that pays expenses; a shopper with a password and an
in-progress visit (checked in with a location) whose draft answers about half the
questions. It serves that checkout with gunicorn (``-k gthread -w 2 --threads 4``
by default), signs the shopper in through the login form, and serves
bench/hello_wsgi.py with the same settings.

Each run sends ``GET /my/visits/<id>/form`` from ``--clients`` threads (one
keep-alive ``http.client`` connection each) for ``--seconds``, counting the answers
that are 200 and hold the form, then does the same to the hello-world app; with
several roots, every run measures each of them, in a rotating order, so that load
from elsewhere falls on all of them alike. It prints the median requests per second
(with min and max) of each, their ratio to hello world, and with several roots the
ratio of each to the first (new / old when the old checkout comes first). Beside it,
the requests served per second of CPU time the server (gunicorn's master and workers,
read from /proc) used: a figure that load from other processes disturbs much less
than the wall-clock rate. Any other answer fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EMAIL, PASSWORD = "bench.shopper@example.com", "bench-password-2026"
FORM_MARK = b'id="visit-form"'
HELLO_MARK = b"Hello, world!"
START_TIMEOUT = 60.0
DRAFT = {  # about half of the retail starter's questions, as the phone autosaves them
    "q_visit_date": "2031-05-04",
    "q_visit_time": "10:05",
    "q_greet_s": "12",
    "q_greet_smile": "yes",
    "q_spoken_to_15": "yes",
    "q_open_questions": "yes",
    "q_listening": "partly",
    "q_summarised": "no",
    "q_fit": "exact",
    "q_knowledge": "4",
    "q_objection": "na",
    "q_queue_min": "3.5",
    "q_nps": "8",
    "comment_greeting": "Greeted at the door.",
}


# --- the data (runs in a child process, inside the app root being measured) ---------------


def build(folder: Path) -> dict[str, Any]:
    """A migrated database in ``folder`` with the shopper's in-progress visit."""
    from datetime import timedelta
    from decimal import Decimal

    from flask_migrate import upgrade

    from auditapp import create_app
    from auditapp.extensions import db
    from auditapp.models import utcnow
    from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit, Wave
    from auditapp.services.checklists import versions as checklists
    from auditapp.services.core.passwords import hash_password
    from auditapp.services.org import records as org
    from auditapp.services.visits import form as visit_form

    app = create_app(app_config(folder))
    with app.app_context():
        upgrade()
        client = org.save_client(None, {"code": "BENCH", "name": "Bench Mart"})
        region = org.save_region(None, client, {"code": "R", "name": "Region", "kind": "region"})
        hours = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        store = org.save_store(None, client, region, {
            "code": "B1", "name": "Bench store", "city": "Shanghai", "opening_hours": hours,
            "latitude": Decimal("31.2304"), "longitude": Decimal("121.4737"),
        })  # fmt: skip
        version = checklists.publish(
            checklists.copy_starter("retail_visit", client, None).versions[0], None
        )
        shopper = org.save_shopper(None, {"email": EMAIL, "name": "Bench shopper"})
        shopper.user.password_hash = hash_password(PASSWORD)
        today, start = utcnow().date(), utcnow().replace(microsecond=0) + timedelta(hours=1)
        wave = Wave(
            client=client, checklist_version=version, name="Bench wave", status="open",
            starts_on=today, ends_on=today + timedelta(days=30), stores=[store],
            fee=Decimal("80"), expense_cap=Decimal("30"), purchase="One pair of socks",
        )  # fmt: skip
        visit = Visit(
            wave=wave, store=store, checklist_version=version, slot="midday",
            window_start=start, window_end=start + timedelta(hours=1), status=PLANNED,
            assigned_at=start - timedelta(days=2), accepted_at=start - timedelta(days=1),
        )  # fmt: skip
        db.session.add_all([wave, visit])
        db.session.flush()
        # The database takes a new visit as planned only, then one step at a time.
        for status in (ASSIGNED, ACCEPTED):
            visit.shopper, visit.status = shopper, status
            db.session.flush()
        db.session.commit()
        visit_form.start_visit(visit, shopper.user, True, "31.2305", "121.4738", "12")
        db.session.commit()
        visit_form.save_draft(visit, None, DRAFT)
        db.session.commit()
        questions = len(checklists.scoring_checklist(version).questions())
        return {"visit_id": visit.id, "questions": questions}


def app_config(folder: Path) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-form-throughput",
        "UPLOAD_FOLDER": str(folder / "uploads"),
    }


def build_in(root: Path, folder: Path) -> dict[str, Any]:
    """Runs ``build`` with the code of ``root``; returns what it found."""
    done = subprocess.run(
        [sys.executable, __file__, "--build", str(folder), "--app-root", str(root)],
        cwd=root, env=_env(root), capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"building the data in {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITAPP_")}
    return env | {"PYTHONPATH": str(root)} | (extra or {})


# --- servers ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    path: str
    mark: bytes
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    headers: dict[str, str] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)
    cpu_rates: list[float] = field(default_factory=list)  # requests per CPU second


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    name: str, spec: str, chdir: Path, env: dict[str, str], log: Path, args: argparse.Namespace
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(args.workers),
        "--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
        "--error-logfile", str(log), spec,
    ]  # fmt: skip
    env = env | {"AUDITAPP_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(command, cwd=chdir, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name}: gunicorn exited early:\n{log.read_text()[-3000:]}")
        try:
            status, _body, _cookies = fetch(port, "GET", "/")
        except OSError:
            time.sleep(0.2)
            continue
        if status < 500:
            return port, process
    stop(process)
    raise SystemExit(f"{name}: no answer in {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


Answer = tuple[int, bytes, SimpleCookie]


def fetch(port: int, method: str, path: str, body: str | None = None, **headers: str) -> Answer:
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        return response.status, response.read(), cookies
    finally:
        connection.close()


def sign_in(port: int) -> dict[str, str]:
    """The shopper's session, got through the login form like a browser."""
    status, page, cookies = fetch(port, "GET", "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert status == 200 and token, f"no login form ({status})"
    jar = {name: morsel.value for name, morsel in cookies.items()}
    form = {"csrf_token": token.group(1).decode(), "email": EMAIL, "password": PASSWORD}
    headers = {
        "Cookie": _cookie_header(jar),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, _page, cookies = fetch(port, "POST", "/login", urlencode(form), **headers)
    assert status in (302, 303), f"sign-in refused ({status})"
    jar |= {name: morsel.value for name, morsel in cookies.items()}
    return {"Cookie": _cookie_header(jar)}


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


# --- load -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a gunicorn master and its workers (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or its child
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def hammer(server: Server, clients: int, seconds: float) -> tuple[float, float]:
    """(requests per second, requests per second of the server's CPU time) from
    ``clients`` threads over ``seconds``; every answer must be a 200 that holds the
    server's mark."""
    counts = [0] * clients
    failures: list[str] = []
    ready = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(index: int) -> None:
        connection = HTTPConnection("127.0.0.1", server.port, timeout=60)
        ready.wait()
        try:
            while time.monotonic() < stop_at[0] and not failures:
                try:
                    connection.request("GET", server.path, headers=server.headers)
                    response = connection.getresponse()
                    body = response.read()
                except (HTTPException, OSError):  # the server closed a kept-alive connection
                    connection.close()
                    connection = HTTPConnection("127.0.0.1", server.port, timeout=60)
                    continue
                if response.status != 200 or server.mark not in body:
                    failures.append(f"{server.name}: {response.status} {body[:200]!r}")
                counts[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    cpu = cpu_seconds(server.process.pid)
    started = time.monotonic()
    stop_at.append(started + seconds)
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(server.process.pid) - cpu
    if failures:
        raise SystemExit(f"a wrong answer: {failures[0]}")
    return sum(counts) / elapsed, sum(counts) / max(cpu, 0.01)


# --- the run ----------------------------------------------------------------------------


def serve_all(args: argparse.Namespace, folder: Path) -> list[Server]:
    servers = []
    for index, root in enumerate(args.app_root):
        data = build_in(root, folder / f"app{index}")
        config = app_config(folder / f"app{index}")
        env = _env(root, {f"AUDITAPP_{k}": str(v) for k, v in config.items()})
        log = folder / f"app{index}.log"
        port, process = start(f"form {root}", "auditapp:create_app()", root, env, log, args)
        server = Server(
            f"form ({root})", f"/my/visits/{data['visit_id']}/form", FORM_MARK, port, process, log
        )
        servers.append(server)
        server.headers = sign_in(port)
        status, page, _cookies = fetch(port, "GET", server.path, **server.headers)
        assert status == 200 and FORM_MARK in page, f"{server.name}: no form ({status})"
        args.questions = data["questions"]
    log = folder / "hello.log"
    port, process = start("hello", "hello_wsgi:app", HERE, _env(HERE), log, args)
    servers.append(Server("hello world", "/", HELLO_MARK, port, process, log))
    return servers


def measure(args: argparse.Namespace, servers: list[Server]) -> None:
    for server in servers:  # every worker builds what it keeps (checklists, templates)
        hammer(server, args.clients, args.warmup)
    for run in range(args.runs):
        shift = run % len(servers)
        for server in servers[shift:] + servers[:shift]:
            rate, cpu_rate = hammer(server, args.clients, args.seconds)
            server.rates.append(rate)
            server.cpu_rates.append(cpu_rate)


def report(args: argparse.Namespace, servers: list[Server], load: tuple[float, ...]) -> None:
    hello = statistics.median(servers[-1].rates)
    print(
        f"visit form page of the retail starter ({args.questions} questions, a draft of "
        f"{sum(k.startswith('q_') for k in DRAFT)} answers); gunicorn -k gthread "
        f"-w {args.workers} --threads {args.threads}; {args.clients} clients; "
        f"{args.runs} run(s) of {args.seconds:g} s"
    )
    width = max(len(s.name) for s in servers)
    print(
        f"{'':<{width}}  {'median req/s':>12}  {'min':>8}  {'max':>8}  {'/ hello':>8}"
        f"  {'req/CPU-s':>9}"
    )
    for server in servers:
        median = statistics.median(server.rates)
        print(
            f"{server.name:<{width}}  {median:>12.1f}  {min(server.rates):>8.1f}  "
            f"{max(server.rates):>8.1f}  {median / hello:>8.3f}"
            f"  {statistics.median(server.cpu_rates):>9.1f}"
        )
    first, *others = servers[:-1]
    for server in others:
        ratio = statistics.median(server.rates) / statistics.median(first.rates)
        cpu_ratio = statistics.median(server.cpu_rates) / statistics.median(first.cpu_rates)
        print(
            f"ratio {server.name} / {first.name}: {ratio:.2f} "
            f"(per CPU second of the server: {cpu_ratio:.2f})"
        )
    after = os.getloadavg()
    print(
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} ({os.cpu_count()} CPUs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--app-root", type=Path, action="append", help="a checkout to serve (repeatable)"
    )
    parser.add_argument("--smoke", action="store_true", help="1 run of 1 s, 4 clients")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    args.app_root = [p.resolve() for p in args.app_root or [ROOT]]
    if args.build:
        sys.path.insert(0, str(args.app_root[0]))
        args.build.mkdir(parents=True, exist_ok=True)
        print(json.dumps(build(args.build)))
        return
    if args.smoke:
        args.runs, args.seconds, args.warmup, args.clients = 1, 1.0, 0.5, 4
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="form-throughput-") as tmp:
        servers: list[Server] = []
        try:
            servers = serve_all(args, Path(tmp))
            measure(args, servers)
        finally:
            for server in servers:
                stop(server.process)
    report(args, servers, load)


if __name__ == "__main__":
    main()
