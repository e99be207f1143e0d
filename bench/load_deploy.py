"""The private deployment bench/load.py measures: everything in one temporary folder,
on free loopback ports, started as the README's deployment describes and torn down
at the end whatever happens.

- PostgreSQL 15 (`initdb` as the postgres user, trust auth, its own socket folder)
  and `redis-server --appendonly yes`, or with ``database="sqlite"`` a SQLite file
  and no Redis (background jobs in in-process threads, the single-machine default);
- `flask db upgrade`, then the data (bench/load_data.py in a subprocess);
- gunicorn `-k gthread -w W --threads T 'auditapp:create_app()'`, one job worker
  (PostgreSQL only): `flask --app auditapp jobs worker` as the README deploys it, or
  RQ's bare `rq worker auditapp --url …`; and, with ``proxy="nginx"``, Debian's nginx
  in front, configured from docs/deploy/nginx.conf.

Every process runs in a session of its own, so a Ctrl-C in the terminal reaches
only the harness, which then stops them in order; the faults (bench/load_faults.py)
stop and start PostgreSQL and Redis through the methods here.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's gunicorn, flask and rq sit beside python
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NGINX_SITE = ROOT / "docs" / "deploy" / "nginx.conf"
T = TypeVar("T")
# What a distribution's /etc/nginx/nginx.conf gives the site file: here with pid, logs
# and temporary files in the deployment's folder, and workers as root (they write there).
NGINX_WRAPPER = """user root;
worker_processes 1;
pid {pid};
error_log {error_log} warn;
events {{ worker_connections 1024; }}
http {{
    access_log {access_log};
    {temp_paths}
    include {site};
}}
"""
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class DeployError(RuntimeError):
    """A part of the deployment did not start; the message names its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: object, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise DeployError(f"{what} did not come up within {timeout:.0f} s" + _tail(log))


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Deployment:
    def __init__(
        self,
        database: str,
        proxy: str,
        workers: int,
        threads: int,
        job_worker: str = "flask",
        keep: Path | None = None,
    ) -> None:
        self.database, self.proxy, self.job_worker = database, proxy, job_worker
        self.workers, self.threads = workers, threads
        self.keep = keep  # a folder to copy the logs to at teardown
        # World-readable: the postgres user must reach its data folder inside.
        self.root = Path(tempfile.mkdtemp(prefix="auditapp-load-"))
        self.root.chmod(0o755)
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.uploads = self.root / "uploads"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.timings: dict[str, float] = {}
        self._files: list[IO[bytes]] = []
        self.pg_port = free_port() if database == "postgres" else 0
        self.redis_port = free_port() if database == "postgres" else 0
        self.app_port = free_port()
        self.nginx_port = free_port() if proxy == "nginx" else 0
        self.env = self._app_env()

    # --- addresses and settings ------------------------------------------------------

    @property
    def front_port(self) -> int:
        """Where clients connect: nginx when it is in front, else gunicorn."""
        return self.nginx_port or self.app_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    @property
    def database_url(self) -> str:
        if self.database == "postgres":
            return f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/auditapp"
        return f"sqlite:///{self.root / 'auditapp.sqlite3'}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0" if self.redis_port else ""

    def _app_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITAPP_")}
        env.update(
            AUDITAPP_DATABASE_URL=self.database_url,
            AUDITAPP_SECRET_KEY="load-" + secrets.token_hex(24),
            AUDITAPP_UPLOAD_FOLDER=str(self.uploads),
            AUDITAPP_BASE_URL=self.base_url,
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["AUDITAPP_REDIS_URL"] = self.redis_url
        if self.proxy == "nginx":
            env["AUDITAPP_PROXY_HOPS"] = "1"
        return env

    # --- processes -----------------------------------------------------------------

    def _log(self, name: str) -> IO[bytes]:
        handle = (self.logs / f"{name}.log").open("ab")
        self._files.append(handle)
        return handle

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        log = self._log(name)
        self.procs[name] = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _run(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        log = self._log(name)
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            check=False,
        )
        if done.returncode != 0:
            raise DeployError(f"{' '.join(cmd[:3])}… failed" + _tail(self.logs / f"{name}.log"))

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def _stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)  # the process and its children (gunicorn's workers)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        except ProcessLookupError:
            pass

    # --- PostgreSQL ----------------------------------------------------------------

    def _as_postgres(self, name: str, *cmd: str) -> None:
        self._run(name, ["runuser", "-u", "postgres", "--", *cmd])

    def start_postgres(self) -> None:
        data = self.root / "pg"
        sockets = self.root / "pgsock"
        if not data.exists():
            for folder in (data, sockets):
                folder.mkdir()
                shutil.chown(folder, "postgres", "postgres")
            initdb = str(PG_BIN / "initdb")
            flags = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
            self._as_postgres("postgres", initdb, "-D", str(data), *flags)
        options = f"-p {self.pg_port} -k {sockets} -c listen_addresses=127.0.0.1"
        log = self.logs / "postgres.log"
        log.touch()
        shutil.chown(log, "postgres", "postgres")
        pg_ctl = str(PG_BIN / "pg_ctl")
        self._as_postgres(
            "postgres", pg_ctl, "start", "-w", "-t", "60", "-D", str(data), "-l", str(log),
            "-o", options,
        )  # fmt: skip

    def stop_postgres(self, mode: str = "fast") -> None:
        pg_ctl = str(PG_BIN / "pg_ctl")
        self._as_postgres("postgres", pg_ctl, "stop", "-w", "-m", mode, "-D", str(self.root / "pg"))

    def postgres_running(self) -> bool:
        return (self.root / "pg" / "postmaster.pid").exists()

    # --- Redis -----------------------------------------------------------------------

    def start_redis(self) -> None:
        folder = self.root / "redis"
        folder.mkdir(exist_ok=True)
        flags = f"--port {self.redis_port} --bind 127.0.0.1 --appendonly yes --daemonize no"
        self._spawn("redis", ["redis-server", *flags.split(), "--save", "", "--dir", str(folder)])

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), 1) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(answers, 20, "redis-server", self.logs / "redis.log")

    def stop_redis(self) -> None:
        self._stop("redis")  # SIGTERM: Redis writes its append-only file and exits

    # --- the app -------------------------------------------------------------------

    def migrate(self) -> None:
        self._run("migrate", [str(BIN / "flask"), "--app", "auditapp", "db", "upgrade"], self.env)

    def build_data(self, shoppers: int) -> Path:
        out = self.root / "data.json"
        script = str(ROOT / "bench" / "load_data.py")
        self._run("data", [sys.executable, script, str(out), f"--shoppers={shoppers}"], self.env)
        return out

    def start_gunicorn(self) -> None:
        flags = (
            f"-k gthread -w {self.workers} --threads {self.threads} "
            f"-b 127.0.0.1:{self.app_port} --graceful-timeout 5 "
            # Its control socket sits in ~/.gunicorn by default, shared with any other
            # gunicorn of the user; this one needs none.
            "--no-control-socket"
        )
        access = ["--access-logfile", str(self.logs / "gunicorn-access.log")]
        cmd = [str(BIN / "gunicorn"), *flags.split(), *access, "auditapp:create_app()"]
        self._spawn("gunicorn", cmd, self.env)
        url = f"http://127.0.0.1:{self.app_port}/login"
        wait_until(lambda: http_ok(url), 90, "gunicorn", self.logs / "gunicorn.log")

    def gunicorn_workers(self) -> list[int]:
        """The worker processes' ids (children of gunicorn's master)."""
        proc = self.procs.get("gunicorn")
        if proc is None:
            return []
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def start_worker(self) -> None:
        """The README's `flask jobs worker`, or with job_worker="rq" RQ's bare worker."""
        if self.job_worker == "rq":
            cmd = [str(BIN / "rq"), "worker", "auditapp", "--url", self.redis_url]
        else:
            cmd = [str(BIN / "flask"), "--app", "auditapp", "jobs", "worker"]
        self._spawn("worker", cmd, self.env)

    def start_nginx(self) -> None:
        folder = self.root / "nginx"
        for kind in ("", *TEMP_KINDS):
            (folder / kind).mkdir(exist_ok=True)
        (folder / "auditapp.conf").write_text(self.render_site(), encoding="utf-8")
        error_log = self.logs / "nginx-error.log"
        wrapper = NGINX_WRAPPER.format(
            pid=folder / "nginx.pid",
            error_log=error_log,
            access_log=self.logs / "nginx-access.log",
            temp_paths=" ".join(f"{kind}_temp_path {folder / kind};" for kind in TEMP_KINDS),
            site=folder / "auditapp.conf",
        )
        (folder / "nginx.conf").write_text(wrapper, encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = ["-p", str(folder), "-e", str(error_log), "-c", str(folder / "nginx.conf")]
        self._spawn("nginx", [nginx, *conf, "-g", "daemon off;"])
        wait_until(lambda: http_ok(f"{self.base_url}/login"), 30, "nginx", error_log)

    def render_site(self) -> str:
        """docs/deploy/nginx.conf with this deployment's ports and folders; each
        replacement must match, so a changed file fails here rather than run unlike
        the documented one."""
        text = NGINX_SITE.read_text(encoding="utf-8")
        replacements = (
            (r"listen 80;", f"listen 127.0.0.1:{self.nginx_port};"),
            (r"listen \[::\]:80;", ""),
            (r"server 127\.0\.0\.1:8000", f"server 127.0.0.1:{self.app_port}"),
            (r"server_name [^;]+;", "server_name 127.0.0.1;"),
            (r"/var/log/nginx/auditapp\.access\.log", str(self.logs / "nginx-access.log")),
            (r"/var/log/nginx/auditapp\.error\.log", str(self.logs / "nginx-error.log")),
        )
        for pattern, replacement in replacements:
            text, count = re.subn(pattern, replacement, text)
            if count == 0:
                raise DeployError(f"{NGINX_SITE} no longer has {pattern!r}")
        return text

    # --- all of it -----------------------------------------------------------------

    def start(self, shoppers: int) -> Path:
        """Starts everything and builds the data; returns the data file."""
        if self.database == "postgres":
            self._timed("postgres", self.start_postgres)
            self._as_postgres(
                "postgres",
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "auditapp",
            )
            self._timed("redis", self.start_redis)
        self._timed("migrations", self.migrate)
        data = self._timed("data", lambda: self.build_data(shoppers))
        self._timed("gunicorn", self.start_gunicorn)
        if self.redis_url:
            self.start_worker()
        if self.proxy == "nginx":
            self._timed("nginx", self.start_nginx)
        print(
            "started: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()), flush=True
        )
        return data

    def _timed(self, name: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return step()
        finally:
            self.timings[name] = time.monotonic() - started

    def close(self) -> None:
        """Stops every process and removes the folder; safe to call more than once."""
        for name in ("nginx", "gunicorn", "worker"):
            self._stop(name)
        self._stop("redis")
        if self.postgres_running():
            try:
                self.stop_postgres("immediate")
            except DeployError as error:
                print(f"warning: {error}", file=sys.stderr)
        for handle in self._files:
            handle.close()
        self._files.clear()
        if self.keep is not None and self.logs.exists():
            self.keep.mkdir(parents=True, exist_ok=True)
            for log in self.logs.iterdir():
                shutil.copy2(log, self.keep / log.name)
        shutil.rmtree(self.root, ignore_errors=True)
