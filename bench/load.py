"""Load harness: a few hundred shoppers upload their photos and submit at once, from
phones that lose signal, against a deployment the harness starts itself; optionally
with a fault injected during the load.

    .venv/bin/python bench/load.py                                  # 200 shoppers, PostgreSQL
    .venv/bin/python bench/load.py --scenario kill-worker
    .venv/bin/python bench/load.py --scenario stall-upload --proxy nginx
    .venv/bin/python bench/load.py --database sqlite --shoppers 50
    .venv/bin/python bench/load.py --smoke                          # 5 shoppers, SQLite, seconds

The deployment (bench/load_deploy.py) lives in a temporary folder and is torn down at
the end, also on Ctrl-C; the data is built by bench/load_data.py through the app's
services; the shoppers are bench/load_shopper.py, the faults bench/load_faults.py and
the checks afterwards bench/load_audit.py. Scenarios: plain, kill-worker,
postgres-down, redis-down (both PostgreSQL only), drop-upload, stall-upload. The job
worker is the README's `flask jobs worker`; `--job-worker rq` runs RQ's bare one.

It prints the requests per endpoint (errors by status, p50/p95/p99), what the
database and the upload folder hold against what the app acknowledged, the mail
still undelivered, and the scenario's own observations. It exits 1 when anything
acknowledged was lost or stored twice, a visit was left half-written, a stored photo
has no file, a shopper could not finish, mail was not delivered, a scenario's own
check failed, or a 5xx was seen where the fault is the client's (plain, drop-upload,
stall-upload).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from load_audit import Audit, audit, mail_unsent
from load_deploy import DeployError, Deployment
from load_faults import NEEDS_POSTGRES, SCENARIOS, Fault, run_fault
from load_shopper import Run, make_photos, reviewer, shopper

ENDPOINTS = (
    "login page",
    "login",
    "form",
    "draft",
    "upload",
    "submit",
    "submit again",
    "upload again",
    "my visits",
    "review queue",
    "review return",
)
CLIENT_SIDE_FAULTS = ("plain", "drop-upload", "stall-upload")
ACCESS_STATUS = re.compile(r'" (\d{3}) ')  # the status after the request line
MAIL_WAIT_CAP = 900.0  # seconds of waiting for the outbox to drain after the load
EXCEPTION = re.compile(r"[\w.]+(Error|Exception|Disconnected|Timeout)")  # a traceback's last line


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--scenario", choices=SCENARIOS, default="plain")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--proxy", choices=("none", "nginx"), default="none")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument(
        "--job-worker",
        choices=("flask", "rq"),
        default="flask",
        help="`flask jobs worker` (the README's) or RQ's bare `rq worker auditapp`",
    )
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to start everyone")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop the load then")
    parser.add_argument("--logs", type=Path, help="copy the deployment's logs here at the end")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--smoke", action="store_true", help="5 shoppers, SQLite, no proxy, plain; seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        args.shoppers, args.database, args.proxy, args.scenario = 5, "sqlite", "none", "plain"
        args.workers, args.ramp = 2, 1.0
    if args.scenario in NEEDS_POSTGRES and args.database != "postgres":
        parser.error(f"--scenario {args.scenario} needs --database postgres")
    if args.proxy == "nginx" and not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        parser.error("nginx is not installed: run scripts/install-nginx.sh")
    if args.shoppers < 1:
        parser.error("--shoppers must be at least 1")
    return args


def uptime() -> str:
    try:
        done = subprocess.run(["/usr/bin/uptime"], capture_output=True, text=True, check=False)
    except OSError:  # no procps: the same three figures
        return "load average: " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    return done.stdout.strip()


def app_version() -> str:
    """The commit the app ran from, and whether its code had changes not committed."""
    git = ["git", "-C", str(Path(__file__).resolve().parents[1])]
    code = ["--", "auditapp", "forms", "scoring", "reports"]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        changed = subprocess.run(
            [*git, "status", "--porcelain", *code], capture_output=True, text=True
        )
    except OSError:  # no git
        return "unknown"
    dirty = " + uncommitted changes" if changed.stdout.strip() else ""
    return (head.stdout.strip() or "unknown") + dirty


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- the run -------------------------------------------------------------------------


async def drive(args: argparse.Namespace, deploy: Deployment, run: Run) -> tuple[Fault, float]:
    """Runs the shoppers, the reviewer and the fault; returns the fault's findings and
    the highest 1-minute load average seen."""
    peak = load_average()

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, load_average())
            await asyncio.sleep(5)

    async def one(n: int) -> None:
        await asyncio.sleep(args.ramp * n / args.shoppers)
        try:
            await shopper(run, n)
        except Exception:  # a bug of the harness: counted, shown once, the others go on
            if not run.unfinished["harness error"]:
                traceback.print_exc()
            run.unfinished["harness error"] += 1

    sampler = asyncio.create_task(sample())
    faulting = asyncio.create_task(run_fault(args.scenario, deploy, run, args.shoppers))
    reviewing = asyncio.create_task(reviewer(run))
    shoppers = [asyncio.create_task(one(n)) for n in range(args.shoppers)]
    _done, pending = await asyncio.wait(shoppers, timeout=args.max_seconds)
    if pending:
        print(f"warning: the load was stopped after {args.max_seconds:.0f} s", file=sys.stderr)
        run.unfinished["stopped at --max-seconds"] += len(pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    run.shoppers_done.set()
    await asyncio.wait_for(reviewing, 120)
    fault = await asyncio.wait_for(faulting, 300)
    await wait_for_mail(deploy, run, fault)
    sampler.cancel()
    return fault, peak


async def wait_for_mail(deploy: Deployment, run: Run, fault: Fault) -> None:
    """Polls the outbox until every message is sent, until none was sent for
    ``fault.mail_wait`` seconds (delivery has stopped), or MAIL_WAIT_CAP has passed."""
    started = progressed = time.monotonic()
    total, unsent, least = 0, -1, None
    while True:
        try:
            total, unsent = await asyncio.to_thread(mail_unsent, deploy.database_url)
        except Exception as error:  # the database may still be coming back
            fault.note(run, f"outbox not readable yet: {type(error).__name__}")
            unsent = -1
        now = time.monotonic()
        if unsent == 0 or now - progressed > fault.mail_wait or now - started > MAIL_WAIT_CAP:
            break
        if unsent >= 0 and (least is None or unsent < least):
            least, progressed = unsent, now
        await asyncio.sleep(2)
    fault.note(
        run, f"after the load: {unsent} of {total} mails unsent, waited {now - started:.0f} s"
    )


# --- the report ----------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def endpoint_rows(run: Run) -> list[dict[str, Any]]:
    rows = []
    for endpoint in [e for e in ENDPOINTS if e in run.stats.status]:
        statuses = run.stats.status[endpoint]
        latency = run.stats.latency[endpoint]
        errors = {s: n for s, n in sorted(statuses.items()) if not s.startswith(("2", "3"))}
        row: dict[str, Any] = {
            "endpoint": endpoint,
            "requests": sum(n for s, n in statuses.items() if s != "gave up"),
            "errors": errors,
        }
        if latency:
            row.update(
                p50=percentile(latency, 0.50),
                p95=percentile(latency, 0.95),
                p99=percentile(latency, 0.99),
                max=max(latency),
            )
        rows.append(row)
    return rows


def server_errors(deploy: Deployment) -> dict[str, int]:
    """Exceptions and gunicorn's own complaints in the app's and the worker's logs."""
    found: dict[str, int] = {}
    for name in ("gunicorn", "worker"):
        log = deploy.logs / f"{name}.log"
        if not log.exists():
            continue
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            head = line.split(":", 1)[0]
            if "[CRITICAL]" in line or "[ERROR]" in line:
                key = f"{name}: {line.split('] ', 2)[-1][:90]}"
            elif EXCEPTION.fullmatch(head):
                key = f"{name}: {line[:110]}"
            else:
                continue
            key = re.sub(r"\d+", "N", key)  # pids, ids, ports
            found[key] = found.get(key, 0) + 1
    return found


def access_statuses(deploy: Deployment) -> dict[str, dict[str, int]]:
    """What gunicorn (and nginx) logged as answers, by status: it includes the answers
    to requests the phones never saw, such as an upload cut off halfway."""
    found: dict[str, dict[str, int]] = {}
    for name in ("gunicorn-access", "nginx-access"):
        log = deploy.logs / f"{name}.log"
        if log.exists():
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            statuses = Counter(m.group(1) for line in lines if (m := ACCESS_STATUS.search(line)))
            found[name.split("-")[0]] = dict(sorted(statuses.items()))
    return found


def window_errors(run: Run, fault: Fault) -> list[str]:
    """Per fault window: failed attempts from its start to 30 s after its end (or to the
    next window), and when the last of them happened (how long the phones felt it)."""
    lines = []
    for index, (start, end, label) in enumerate(fault.windows):
        following = fault.windows[index + 1][0] if index + 1 < len(fault.windows) else end + 30
        until = min(end + 30, following)
        failed = [
            (at, endpoint, status)
            for at, endpoint, status in run.stats.timeline
            if start <= at < until and not status.startswith(("2", "3", "4"))
        ]
        last = max((at for at, _e, _s in failed), default=None)
        kinds = Counter(f"{endpoint} {status}" for _at, endpoint, status in failed)
        summary = ", ".join(f"{k} x{n}" for k, n in kinds.most_common())
        after = f"; last failure {last - end:+.1f} s after its end" if last is not None else ""
        lines.append(f"{label} ({start:.1f}-{end:.1f} s): {summary or 'no failed request'}{after}")
    return lines


def probe_summary(fault: Fault) -> list[str]:
    if not fault.probes:
        return []
    window = fault.windows[0] if fault.windows else (float("inf"), float("inf"), "")
    parts = {
        "before the stall": [p for p in fault.probes if p[0] < window[0]],
        "during the stall": [p for p in fault.probes if window[0] <= p[0] <= window[1]],
        "after the stall": [p for p in fault.probes if p[0] > window[1]],
    }
    lines = []
    for label, probes in parts.items():
        answered = [lat for _at, lat in probes if lat is not None]
        if not probes:
            continue
        slow = sum(1 for _at, lat in probes if lat is None or lat > 1.0)
        figures = (
            f"p50 {percentile(answered, 0.5):.2f} s, max {max(answered):.2f} s"
            if answered
            else "none answered"
        )
        lines.append(
            f"GET /login {label}: {len(probes)} probes, {figures}, "
            f"{slow} over 1 s or unanswered ({len(probes) - len(answered)} unanswered)"
        )
    return lines


def verdict(args: argparse.Namespace, run: Run, fault: Fault, found: Audit) -> list[str]:
    """What fails the run (empty: it passed)."""
    failures = []
    checks: list[tuple[list[Any], str]] = [
        (found.submissions_lost, "submissions acknowledged but not stored"),
        (found.submissions_duplicated, "visits with more than one submission"),
        (found.photos_lost, "photos acknowledged but not stored"),
        (found.photos_duplicated, "photos stored more than once"),
        (found.half_written, "half-written visits"),
        (found.rows_without_files, "evidence rows without their file"),
    ]
    for items, what in checks:
        if items:
            failures.append(f"{len(items)} {what}: {', '.join(map(str, items[:5]))}")
    if found.photos_of_abandoned:
        failures.append(f"{found.photos_of_abandoned} photos stored that no shopper sent in full")
    if run.unfinished:
        failures.append(f"shoppers that did not finish, by step: {dict(run.unfinished)}")
    if found.mail_unsent:
        failures.append(f"{found.mail_unsent} of {found.mail_total} mails not delivered")
    fives = sum(
        n for statuses in run.stats.status.values() for s, n in statuses.items() if s[0] == "5"
    )
    if fives and args.scenario in CLIENT_SIDE_FAULTS:
        failures.append(f"{fives} responses 5xx in the {args.scenario} scenario")
    failures += [f"{what}: {detail}" for what, passed, detail in fault.checks if not passed]
    return failures


def report(
    args: argparse.Namespace,
    deploy: Deployment,
    run: Run,
    fault: Fault,
    found: Audit,
    seconds: float,
    loads: tuple[str, float, str],
) -> list[str]:
    before, peak, after = loads
    version = app_version()
    print(
        f"\n== bench/load.py: {args.shoppers} shoppers, scenario {args.scenario}, "
        f"{args.database}, proxy {args.proxy}, gunicorn {args.workers}x{args.threads} gthread"
        + (f", {args.job_worker} job worker" if args.database == "postgres" else "")
    )
    print(f"app code: {version}")
    print(f"load phase {seconds:.1f} s; uptime before: {before}")
    print(f"peak 1-min load during the run {peak:.2f}; uptime after: {after}")
    print(
        f"\n{'endpoint':<14}{'requests':>9}{'p50 s':>8}{'p95 s':>8}{'p99 s':>8}{'max s':>8}"
        "  errors by status"
    )
    rows = endpoint_rows(run)
    for row in rows:
        figures = "".join(
            f"{row[k]:>8.2f}" if k in row else f"{'-':>8}" for k in ("p50", "p95", "p99", "max")
        )
        by_status = ", ".join(f"{s}: {n}" for s, n in row["errors"].items()) or "-"
        print(f"{row['endpoint']:<14}{row['requests']:>9}{figures}  {by_status}")
    total = sum(r["requests"] for r in rows)
    print(f"{'all':<14}{total:>9}")
    print(
        f"\nshoppers: {run.progress['signed in']} signed in, {run.progress['uploaded']} "
        f"uploaded both photos, {run.progress['submitted']} submitted; "
        f"unfinished by step: {dict(run.unfinished) or 'none'}"
    )
    for text, n in run.refusals.most_common(8):
        print(f"  refused x{n}: {text}")
    print(f"reviewer: {len(run.returned)} visits returned (each a mail)")
    print("\n-- in the database and the upload folder afterwards")
    print(
        f"submissions: {found.submissions_acked} acknowledged, {found.submissions_stored} "
        f"stored, {len(found.submissions_lost)} lost, {len(found.submissions_duplicated)} "
        f"duplicated, {found.submissions_unacked} stored without an acknowledgement"
    )
    print(
        f"photos: {found.photos_acked} acknowledged, {found.photos_stored} stored, "
        f"{len(found.photos_lost)} lost, {len(found.photos_duplicated)} duplicated, "
        f"{found.photos_unacked} stored without an acknowledgement, "
        f"{found.photos_of_abandoned} of uploads never sent in full"
    )
    print(f"visits by status: {dict(found.statuses)}; half-written: {len(found.half_written)}")
    for line in found.half_written[:5]:
        print(f"  {line}")
    print(
        f"files without rows: {len(found.files_without_rows)}; rows without files: "
        f"{len(found.rows_without_files)}; temporary files left: {len(found.temp_files)}"
    )
    print(f"mail: {found.mail_total} in the outbox, {found.mail_unsent} not sent")
    for text, n in found.mail_errors.most_common(3):
        print(f"  unsent x{n}: {text}")
    answered = access_statuses(deploy)
    for server, statuses in answered.items():
        print(f"{server} logged answers: {statuses}")
    logged = server_errors(deploy)
    if logged:
        print("\n-- server logs (ids and numbers as N)")
        for text, n in sorted(logged.items(), key=lambda i: -i[1])[:10]:
            print(f"  x{n}: {text}")
    print(f"\n-- scenario {args.scenario}")
    for line in fault.notes + window_errors(run, fault) + probe_summary(fault):
        print(f"  {line}")
    for what, passed, detail in fault.checks:
        print(f"  {'PASS' if passed else 'FAIL'}: {what} ({detail})")
    failures = verdict(args, run, fault, found)
    print()
    for line in failures:
        print(f"FAILED: {line}")
    print("OK: nothing lost, nothing duplicated" if not failures else "")
    if args.json:
        summary: dict[str, Any] = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "seconds": seconds,
            "app_code": version,
            "uptime_before": before,
            "peak_load": peak,
            "uptime_after": after,
            "endpoints": rows,
            "audit": {k: v if isinstance(v, int) else len(v) for k, v in vars(found).items()},
            "notes": fault.notes + window_errors(run, fault) + probe_summary(fault),
            "checks": fault.checks,
            "failures": failures,
            "server_errors": logged,
            "access_statuses": answered,
        }
        args.json.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    return failures


# --- main ------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    # SIGTERM ends the run like Ctrl-C: through the finally below, which tears down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    deploy = Deployment(
        args.database, args.proxy, args.workers, args.threads, args.job_worker, keep=args.logs
    )
    try:
        print(
            f"deployment in {deploy.root}; building {2 * args.shoppers} photos and the data…",
            flush=True,
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            photos = pool.submit(make_photos, 2 * args.shoppers)
            data_file = deploy.start(args.shoppers)
            run = Run(deploy.base_url, json.loads(data_file.read_text()), photos.result())
        if args.smoke:
            run.think, run.give_up = (0.05, 0.2), 60.0
        if args.scenario == "drop-upload":
            run.drop_every = 3
        before = uptime()
        print(
            f"serving {deploy.base_url}; {args.shoppers} shoppers start over {args.ramp:g} s",
            flush=True,
        )
        started = time.monotonic()
        fault, peak = asyncio.run(drive(args, deploy, run))
        seconds = time.monotonic() - started
        found = audit(
            deploy.database_url,
            deploy.uploads,
            [int(s["visit_id"]) for s in run.data["shoppers"]],
            run.submitted,
            run.sent,
            run.uploaded,
            run.tried,
        )
        failures = report(args, deploy, run, fault, found, seconds, (before, peak, uptime()))
        return 1 if failures else 0
    except DeployError as error:
        print(f"deployment failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: tearing the deployment down", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the teardown
        deploy.close()


if __name__ == "__main__":
    sys.exit(main())
