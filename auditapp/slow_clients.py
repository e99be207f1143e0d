"""A phone that stops sending in the middle of an upload costs only its own request.

Run without a buffering proxy in front (``make run``, or gunicorn on its own), a
request body is read straight from the client's socket by one of the app's few
threads, and a client that goes quiet mid-body would hold that thread until the
phone gives up, minutes later; a dozen such phones stop the site. So every read
from the client's socket is limited to BODY_READ_TIMEOUT_SECONDS: a body that makes
no progress for that long ends its request with 408 (a slow upload that keeps
moving is never cut). The documented deployment (docs/deploy/nginx.conf) has nginx
take the whole body first, so there this only guards against a misconfiguration.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from werkzeug.exceptions import RequestTimeout

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Where gunicorn and Werkzeug's development server put the client's socket.
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
T = TypeVar("T")


class _Body(Protocol):
    """The WSGI input stream, as PEP 3333 describes it."""

    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int = ..., /) -> bytes: ...

    def readlines(self, hint: int = ..., /) -> list[bytes]: ...


class BoundedBodyReads:
    """WSGI middleware: a timeout on each read of the request body."""

    def __init__(self, app: WSGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = next((environ[key] for key in SOCKET_KEYS if key in environ), None)
        if sock is not None and self.seconds > 0:
            sock.settimeout(self.seconds)
            environ["wsgi.input"] = _TimedInput(environ["wsgi.input"])
        return self.app(environ, start_response)


class _TimedInput:
    """The body stream, turning a read that timed out into a 408 for the app."""

    def __init__(self, stream: _Body) -> None:
        self._stream = stream

    def read(self, *args: Any) -> bytes:
        return self._call(self._stream.read, *args)

    def readline(self, *args: Any) -> bytes:
        return self._call(self._stream.readline, *args)

    def readlines(self, *args: Any) -> list[bytes]:
        return self._call(self._stream.readlines, *args)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    @staticmethod
    def _call(read: Callable[..., T], *args: Any) -> T:
        try:
            return read(*args)
        except TimeoutError as stalled:
            raise RequestTimeout() from stalled
