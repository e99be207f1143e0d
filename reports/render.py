"""PDF rendering with WeasyPrint: an HTML string and a base URL in, PDF bytes out.

The HTML comes from Jinja templates with autoescape on, so user text (store names,
comments, a shopper's "<script>") is text, never markup. WeasyPrint fetches nothing
but the report's own files: :class:`LocalFilesFetcher` serves ``file:`` URLs that
resolve (symlinks followed) inside the allowed folders (the app's static folder, and
the evidence folder of the uploads for the photo thumbnails) and refuses everything
else, so a report can never reach the network or read another file of the server.

The CJK font. Chinese needs a font with CJK coverage; the PDF embeds a subset of it.
We use Debian's ``fonts-noto-cjk`` (Noto Sans CJK SC, Regular and Bold), found by
fontconfig under its family name, rather than a font shipped in a pip wheel:

- it is the font the project already installs for its browser tests and screenshots
  (scripts/install-browser.sh), and ``make run`` installs it through
  scripts/install-fonts.sh, so a developer, CI and a server built from the project's
  files all have it with no manual step;
- it comes from the distribution, signed and maintained, with a real Bold; the pip
  wheels that carry Noto CJK here are small unofficial repackagings (0.0.x, one
  author, Regular only, 15-30 MB each) and would ship inside every virtualenv;
- fontconfig's cache makes it free to find at each render, whereas an ``@font-face``
  file is read and parsed again for every document, which matters for a 500-store
  batch.

:func:`cjk_font_available` tells whether fontconfig has the family, so the command
line and the tests can say what is missing instead of printing empty boxes; the
tests also check with ``pdffonts`` that the PDF embeds the CJK font.

Numbers are exact Fractions up to here; :func:`number`, :func:`signed` and
:func:`percent` round them half-up for display (SCORING.md), like every other view.
"""

import mimetypes
import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from PIL import ImageFile
from weasyprint import CSS, HTML  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

from scoring import round_half_up

# Importing WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process,
# which would let a half-uploaded photo through auditapp/media.py. The reports only
# embed thumbnails the app wrote itself, so Pillow's default goes back on.
ImageFile.LOAD_TRUNCATED_IMAGES = False

CJK_FAMILY = "Noto Sans CJK SC"
# The CJK font's Latin glyphs are good, so one family serves both languages.
FONT_STACK = f'"{CJK_FAMILY}", "Noto Sans SC", "Source Han Sans SC", "DejaVu Sans", sans-serif'
DASH = "—"  # shown for a figure that has no value (no data)
MINUS = "−"  # U+2212, the typographic minus


class FetchRefused(ValueError):
    """The report asked for something outside its own files."""


class LocalFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``file:`` URLs inside ``allowed`` folders; refuses everything else."""

    def __init__(self, allowed: Iterable[str | Path]) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.allowed = tuple(Path(folder).resolve() for folder in allowed)

    def local_path(self, url: str) -> Path:
        """The file a URL names, if the report may read it; else FetchRefused."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"not a local file: {url[:200]}")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise FetchRefused(f"no such file: {url[:200]}") from exc
        if not path.is_file() or not any(path.is_relative_to(root) for root in self.allowed):
            raise FetchRefused(f"outside the report's folders: {url[:200]}")
        return path

    def fetch(self, url: str, headers: Any = None) -> Any:
        path = self.local_path(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def render_pdf(
    html: str,
    base_url: str | Path,
    allowed: Iterable[str | Path],
    stylesheets: Sequence[Any] = (),
) -> bytes:
    """The PDF of ``html``; relative URLs resolve against ``base_url`` (a folder).
    ``stylesheets``: parsed ones (:func:`stylesheet`), applied after any the HTML
    links to."""
    base = Path(base_url).resolve().as_uri() + "/" if isinstance(base_url, Path) else base_url
    document = HTML(string=html, base_url=base, url_fetcher=LocalFilesFetcher(allowed))
    pdf: bytes = document.write_pdf(
        font_config=_font_config(), stylesheets=list(stylesheets) or None
    )
    return pdf


def stylesheet(path: Path) -> Any:
    """The stylesheet in ``path``, parsed once per process (again if the file changes)
    rather than for every document: a batch prints hundreds. The CSS objects are only
    read while documents are laid out, so threads can share them. It may only refer
    to files in its own folder."""
    info = path.stat()
    return _parsed_stylesheet(path.resolve(), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=8)
def _parsed_stylesheet(path: Path, _mtime: int, _size: int) -> Any:
    folder = path.parent
    return CSS(
        string=path.read_text(encoding="utf-8"),
        base_url=folder.as_uri() + "/",
        url_fetcher=LocalFilesFetcher([folder]),
    )


@lru_cache(maxsize=16)
def page_label_stylesheet(template: str) -> Any:
    """A translated "Page {page} of {pages}" in the bottom-right page margin, parsed
    once per language."""
    rule = f"@page {{ @bottom-right {{ content: {page_label_content(template)}; }} }}"
    return CSS(string=rule, url_fetcher=LocalFilesFetcher([]))


_fonts = threading.local()


def _font_config() -> Any:
    """One font configuration per thread, kept between documents. A new one for each
    document (WeasyPrint's default) loads the CJK faces again every time: a third
    slower, and a batch worker's memory grows by ~100 MB. Pango's font map is not
    shared across threads, hence one per thread; the reports add no @font-face, so
    nothing accumulates in it."""
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


@cache
def cjk_font_available() -> bool:
    """Whether fontconfig knows the CJK family the print CSS asks for."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run(  # noqa: S603 (a fixed program and arguments)
        [fc_list, f"{CJK_FAMILY}:lang=zh-cn", "family"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return CJK_FAMILY in found.stdout


def file_url(path: str | Path) -> str:
    """A local file as a URL for an <img src>; the fetcher decides if it may be read."""
    return Path(path).resolve().as_uri()


# --- display ---------------------------------------------------------------------------


def number(value: Fraction | None, places: int = 1) -> str:
    """A score as shown: half-up to ``places`` decimals, or a dash."""
    if value is None:
        return DASH
    return _text(round_half_up(value, places))


def signed(value: Fraction | None, places: int = 1) -> str:
    """A change as shown: +4.2, −1.3, ±0.0."""
    if value is None:
        return DASH
    shown = round_half_up(value, places)
    if shown == 0:
        return "±" + _text(abs(shown))
    return ("+" if shown > 0 else MINUS) + _text(abs(shown))


def percent(share: Fraction | None, places: int = 0) -> str:
    """A share (0..1) as a percentage: 85%."""
    if share is None:
        return DASH
    return number(share * 100, places) + "%"


def points(value: Fraction) -> str:
    """Points as shown: up to two decimals, no trailing zeros (2, 1.5, 0.25)."""
    shown = round_half_up(value, 2)
    return _text(shown.quantize(Decimal(1)) if shown == shown.to_integral() else shown.normalize())


def _text(value: Decimal) -> str:
    return MINUS + format(-value, "f") if value < 0 else format(value, "f")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for generated content in @page boxes)."""
    out = []
    for char in text:
        if char.isalnum() or char in " .,:;()/-_%·":
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return '"' + "".join(out) + '"'


def page_label_content(template: str) -> str:
    """CSS ``content`` for a translated "Page {page} of {pages}" label."""
    counters = {"{page}": "counter(page)", "{pages}": "counter(pages)"}
    parts = re.split(r"(\{pages?\})", template)
    return " ".join(counters.get(part) or css_string(part) for part in parts if part)
