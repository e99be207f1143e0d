"""Uploads that stall mid-body (a phone losing signal) cost only their own request:
with every thread of a real gunicorn held by one, the sign-in page still answers once
the body-read timeout ends them (slow_clients.py), and each stalled client gets 408."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
THREADS = 2
TIMEOUT_SECONDS = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, timeout: float) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        return int(sock.recv(64).split()[1])


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {
        **os.environ,
        "AUDITAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'slow.sqlite3'}",
        "AUDITAPP_SECRET_KEY": "test-secret",
        "AUDITAPP_BASE_URL": "http://127.0.0.1",
        "AUDITAPP_BODY_READ_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
    }
    flask = [sys.executable, "-m", "flask", "--app", "auditapp"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", str(THREADS)]
        + ["-b", f"127.0.0.1:{port}", "auditapp:create_app()"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(port, "/login", 1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _stalled_upload(port: int) -> socket.socket:
    """Headers and half the body of a photo upload, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
    boundary = "----stall"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    sock.sendall(
        (
            "POST /my/visits/1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Content-Length: 200000\r\n\r\n" + head
        ).encode()
        + b"\xff" * 50_000
    )
    return sock


def test_stalled_uploads_holding_every_thread_free_it_and_get_408(gunicorn: int) -> None:
    stalled = [_stalled_upload(gunicorn) for _ in range(THREADS + 1)]
    try:
        time.sleep(0.3)  # every thread is now reading a body that does not come
        started = time.monotonic()
        assert _get(gunicorn, "/login", timeout=TIMEOUT_SECONDS * 10) == 200
        assert time.monotonic() - started < TIMEOUT_SECONDS * 5
        for sock in stalled:
            sock.settimeout(10)
            assert sock.recv(64).split()[1] == b"408"
    finally:
        for sock in stalled:
            sock.close()
