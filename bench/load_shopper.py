"""The simulated shoppers of bench/load.py, and the reviewer whose returns send mail.

Each shopper is one phone: its own httpx client (cookies, one connection), doing what
the visit form's page and script do (auditapp/static/visit_form/): sign in with the
login page's CSRF token, open the form, autosave the draft three times as JSON, upload
two photos one by one (multipart, a client upload id each), submit with the form's
submission id, then, as a phone that lost the answer would, send the same submission
and the first photo once more. Every request that fails by a connection error, a
timeout, a 5xx, 408 or 429 is sent again after a growing pause (1, 2, 4, 8, then every
15 s, as the script's retry timer does) until it gets an answer or the shopper gives
up; what each attempt got is recorded. A refusal (another 4xx) is not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from PIL import Image

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')
REVISION = re.compile(r'data-revision="(\d+)"')
PAGE_ERROR = re.compile(r'<p class="(?:error|flash flash-error)"[^>]*>([^<]+)<')
RETRIED = (408, 429)  # besides 5xx: the script tries these again later too
BACKOFF_CAP = 15.0  # the script's retry timer (RETRY_MS)
REVIEW_EVERY = 3  # the reviewer returns one submitted visit in three (each a mail)

# --- photos ------------------------------------------------------------------------


def make_photos(count: int, seed: int = 7) -> list[bytes]:
    """``count`` different camera-sized JPEGs (2560 x 1920, about 2.6 MB): one noise
    layer, so they do not compress, over a coarse pattern of its own per photo, so
    that no two have the same difference hash (the integrity checks would flag
    copies and look up every near match)."""
    height, width = 1920, 2560
    noise = np.random.default_rng(seed).integers(-40, 41, (height, width, 3), dtype=np.int16)

    def one(index: int) -> bytes:
        coarse = np.random.default_rng((seed, index)).integers(40, 216, (6, 8, 3))
        base = np.repeat(np.repeat(coarse.astype(np.int16), height // 6, 0), width // 8, 1)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=90
        )
        return buffer.getvalue()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, range(count)))


def multipart(fields: dict[str, str], photo: bytes, boundary: str) -> bytes:
    """An upload body as the script's FormData sends it: the file first."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    ]
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


# --- what happened -------------------------------------------------------------------


class Stats:
    """Every attempt: its latency (when it got an answer) and its status, per endpoint;
    "conn" for a connection error, "timeout" for no answer in time."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[str]] = defaultdict(Counter)
        self.inflight: Counter[str] = Counter()
        self.timeline: list[tuple[float, str, str]] = []  # (seconds since start, endpoint, status)

    def now(self) -> float:
        return time.monotonic() - self.started

    def record(self, endpoint: str, status: str, seconds: float | None) -> None:
        self.status[endpoint][status] += 1
        if seconds is not None:
            self.latency[endpoint].append(seconds)
        self.timeline.append((self.now(), endpoint, status))


@dataclass
class Run:
    """What the shoppers share: the target, the data, and what they were told."""

    base_url: str
    data: dict[str, Any]
    photos: list[bytes]
    give_up: float = 300.0  # a request still failing after this long is abandoned
    think: tuple[float, float] = (0.3, 1.5)  # seconds between a phone's steps
    drop_every: int = 0  # every n-th shopper loses its first upload halfway, once
    stats: Stats = field(default_factory=Stats)
    submitted: dict[int, str] = field(default_factory=dict)  # acknowledged: visit -> id
    sent: dict[int, str] = field(default_factory=dict)  # every submission id sent
    uploaded: set[tuple[int, str]] = field(default_factory=set)  # acknowledged uploads
    tried: set[tuple[int, str]] = field(default_factory=set)  # every upload id sent
    dropped: int = 0
    returned: list[int] = field(default_factory=list)  # visits the reviewer returned
    progress: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # "endpoint status: message"
    unfinished: Counter[str] = field(default_factory=Counter)  # the step a shopper stopped at
    review_queue: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    shoppers_done: asyncio.Event = field(default_factory=asyncio.Event)


# --- one phone -----------------------------------------------------------------------


class Phone:
    """One device: its own cookies and connection, retrying like the page's script."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.client = httpx.AsyncClient(
            base_url=run.base_url,
            timeout=httpx.Timeout(300.0, connect=10.0),
            # gunicorn closes a connection idle for 2 s; a browser resends a request
            # that met such a close at once, unseen, so this phone lets idle ones go
            # first rather than count that race as a connection error.
            limits=httpx.Limits(keepalive_expiry=1.5),
            follow_redirects=False,
            headers={"User-Agent": "auditapp-load/1 (phone)", "Accept-Language": "en"},
        )
        self.csrf = ""

    async def __aenter__(self) -> Phone:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.client.aclose()

    async def send(self, endpoint: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        """The answer, retried through connection errors, timeouts, 5xx, 408 and 429;
        None when it still failed after ``give_up`` seconds."""
        stats, first, attempt = self.run.stats, time.monotonic(), 0
        while True:
            started = time.monotonic()
            stats.inflight[endpoint] += 1
            response: httpx.Response | None = None
            try:
                response = await self.client.request(method, url, **kw)
                status = str(response.status_code)
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.TransportError:
                status = "conn"
            finally:
                stats.inflight[endpoint] -= 1
            took = time.monotonic() - started
            stats.record(endpoint, status, took if response is not None else None)
            code = response.status_code if response is not None else 0
            if response is not None and code < 500 and code not in RETRIED:
                return response
            if time.monotonic() - first > self.run.give_up:
                stats.record(endpoint, "gave up", None)
                return None
            delay = min(BACKOFF_CAP, 2.0**attempt) * random.uniform(0.75, 1.25)  # noqa: S311
            attempt += 1
            await asyncio.sleep(delay)

    def refused(self, endpoint: str, response: httpx.Response) -> None:
        """Counts a refusal with its message: the JSON error, the page's error or
        flash line, or where a redirect went."""
        if response.is_redirect:
            message = f"to {response.headers.get('location', '?')}"
        elif found := PAGE_ERROR.search(response.text):
            message = found.group(1)
        else:
            body = _json(response)
            message = str(body.get("error") or body.get("errors") or response.text)
        message = " ".join(message.split())[:120]
        self.run.refusals[f"{endpoint} {response.status_code}: {message}"] += 1

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar)

    async def sign_in(self, email: str, password: str) -> bool:
        for _try in range(3):
            page = await self.send("login page", "GET", "/login")
            if page is None:
                return False
            token = CSRF_INPUT.search(page.text)
            if page.status_code == 302:  # already signed in
                return True
            if token is None:
                self.refused("login page", page)
                return False
            form = {"csrf_token": token.group(1), "email": email, "password": password}
            answer = await self.send("login", "POST", "/login", data=form)
            if answer is None:
                return False
            if answer.status_code == 302:
                return True
            self.refused("login", answer)  # 200: refused or slowed down; 400: CSRF lost
        return False

    async def page_token(self, url: str, endpoint: str) -> httpx.Response | None:
        """A signed-in page, its CSRF token kept for the JSON and form posts."""
        page = await self.send(endpoint, "GET", url)
        if page is None:
            return None
        if page.status_code != 200 or not (meta := CSRF_META.search(page.text)):
            self.refused(endpoint, page)
            return None
        self.csrf = meta.group(1)
        return page

    def json_headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.csrf, "Accept": "application/json"}

    async def upload(
        self, endpoint: str, visit: int, photo: bytes, upload_id: str, question: str
    ) -> bool:
        fields = {"client_upload_id": upload_id, "kind": "photo", "question_key": question}
        self.run.tried.add((visit, upload_id))
        answer = await self.send(
            endpoint,
            "POST",
            f"/my/visits/{visit}/evidence",
            files={"file": ("photo.jpg", photo, "image/jpeg")},
            data=fields,
            headers=self.json_headers(),
        )
        if answer is None:
            return False
        if answer.status_code in (200, 201) and "id" in _json(answer):
            self.run.uploaded.add((visit, upload_id))
            return True
        self.refused(endpoint, answer)
        return False

    async def submit(
        self, endpoint: str, visit: int, fields: dict[str, str], submission_id: str
    ) -> bool:
        form = {
            **fields,
            "csrf_token": self.csrf,
            "submission_id": submission_id,
            "action": "submit",
        }
        self.run.sent[visit] = submission_id
        answer = await self.send(
            endpoint,
            "POST",
            f"/my/visits/{visit}/submit",
            data=form,
            headers={"Accept": "application/json"},
        )
        if answer is None:
            return False
        body = _json(answer)
        if (
            answer.status_code == 200
            and body.get("ok")
            and body.get("submission_id") == submission_id
        ):
            self.run.submitted[visit] = submission_id
            return True
        self.refused(endpoint, answer)
        return False

    async def partial_upload(
        self, visit: int, photo: bytes, upload_id: str, question: str, fraction: float = 0.5
    ) -> asyncio.StreamWriter:
        """Sends an upload's headers and the first ``fraction`` of its body on a raw
        connection and returns it open: the caller closes it (a phone losing signal)
        or leaves it silent (a phone in a lift)."""
        boundary = "load" + uuid.uuid4().hex
        body = multipart(
            {"client_upload_id": upload_id, "kind": "photo", "question_key": question},
            photo,
            boundary,
        )
        url = httpx.URL(self.run.base_url)
        head = (
            f"POST /my/visits/{visit}/evidence HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
            f"Cookie: {self.cookie_header()}\r\nX-CSRFToken: {self.csrf}\r\n"
            "Accept: application/json\r\nUser-Agent: auditapp-load/1 (phone)\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        _reader, writer = await asyncio.open_connection(url.host, url.port)
        writer.write(head.encode() + body[: int(len(body) * fraction)])
        await writer.drain()
        return writer


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


# --- the shopper's visit ---------------------------------------------------------------


async def shopper(run: Run, n: int) -> None:
    """One shopper's whole visit; ``run.unfinished`` names the step it stopped at."""
    step = await _visit(run, n)
    if step != "done":
        run.unfinished[step] += 1


async def _visit(run: Run, n: int) -> str:
    data, rng = run.data, random.Random(n)  # noqa: S311 - think times
    me = data["shoppers"][n]
    visit = int(me["visit_id"])

    async def think() -> None:
        await asyncio.sleep(rng.uniform(*run.think))

    async with Phone(run) as phone:
        if not await phone.sign_in(me["email"], data["password"]):
            return "login"
        run.progress["signed in"] += 1
        page = await phone.page_token(f"/my/visits/{visit}/form", "form")
        if page is None or not (found := SUBMISSION_ID.search(page.text)):
            return "form"
        submission_id = found.group(1)
        revision = int(m.group(1)) if (m := REVISION.search(page.text)) else 0
        for draft in data["drafts"]:
            await think()
            revision += 1
            answer = await phone.send(
                "draft",
                "POST",
                f"/my/visits/{visit}/draft",
                content=json.dumps({"revision": revision, "data": draft}),
                headers={**phone.json_headers(), "Content-Type": "application/json"},
            )
            if answer is None:
                return "draft"
            if answer.status_code != 200:
                phone.refused("draft", answer)
                return "draft"
        first: tuple[bytes, str, str] | None = None
        for index, question in enumerate(data["photo_questions"][:2]):
            await think()
            photo = run.photos[(2 * n + index) % len(run.photos)]
            upload_id = str(uuid.uuid4())
            if index == 0 and run.drop_every and n % run.drop_every == 0:
                with contextlib.suppress(OSError):  # no connection: nothing to cut off
                    writer = await phone.partial_upload(visit, photo, upload_id, question)
                    writer.close()  # signal lost halfway through the photo
                    run.dropped += 1
                await asyncio.sleep(1.0)
            if not await phone.upload("upload", visit, photo, upload_id, question):
                return "upload"
            first = first or (photo, upload_id, question)
        run.progress["uploaded"] += 1
        await think()
        if not await phone.submit("submit", visit, data["fields"], submission_id):
            return "submit"
        run.progress["submitted"] += 1
        # The phone never saw those answers: it sends the same things again.
        if not await phone.submit("submit again", visit, data["fields"], submission_id):
            return "submit again"
        if first is not None and not await phone.upload("upload again", visit, *first):
            return "upload again"
    run.review_queue.put_nowait(visit)
    return "done"


# --- the reviewer --------------------------------------------------------------------


async def reviewer(run: Run) -> None:
    """Returns every REVIEW_EVERY-th finished visit to its shopper with a note: each
    return e-mails the shopper through a background job (RQ, or a thread)."""
    async with Phone(run) as phone:
        if not await phone.sign_in(run.data["reviewer"], run.data["password"]):
            run.unfinished["reviewer login"] += 1
            return
        if await phone.page_token("/review/", "review queue") is None:
            run.unfinished["reviewer queue"] += 1
            return
        seen = 0
        while not (run.shoppers_done.is_set() and run.review_queue.empty()):
            try:
                visit = await asyncio.wait_for(run.review_queue.get(), 1.0)
            except TimeoutError:
                continue
            seen += 1
            if seen % REVIEW_EVERY:
                continue
            form = {"csrf_token": phone.csrf, "note": "Please retake the storefront photo."}
            answer = await phone.send(
                "review return", "POST", f"/review/visits/{visit}/return", data=form
            )
            if answer is None:
                continue
            where = answer.headers.get("location", "").rstrip("/")
            if answer.status_code == 302 and where.endswith("/review"):  # back to the queue
                run.returned.append(visit)
            else:
                phone.refused("review return", answer)
