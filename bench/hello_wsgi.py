"""The smallest WSGI app: what gunicorn and the client manage with no app work at all.

bench/form_throughput.py serves it with the same gunicorn settings as the real app,
so the form page's requests per second can be read against it.
"""

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"Hello, world!\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
