"""Files the app hands out (exports, payment runs, PDFs, ZIPs): personal data that
must not stay behind in a browser's or a proxy's cache. Every attachment is sent with
`Cache-Control: private, no-store`, set here once for all of them."""

from flask import Flask
from flask.wrappers import Response

NO_STORE = "private, no-store"


def init_app(app: Flask) -> None:
    @app.after_request
    def _never_store_downloads(response: Response) -> Response:
        disposition = response.headers.get("Content-Disposition", "")
        if disposition.strip().lower().startswith("attachment"):
            response.headers["Cache-Control"] = NO_STORE
        return response
