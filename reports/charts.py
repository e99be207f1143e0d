"""Chart geometry for the PDFs: where bars, points and grid lines go.

Only coordinates are computed here (floats are fine for drawing); the templates draw
the SVG with autoescaped labels, and every figure printed next to a chart is rounded
half-up from the exact value (reports/render.py), never read back from a float.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .cards import TrendPoint
from .render import number

SCALE = Fraction(100)  # scores are percentages


@dataclass(frozen=True)
class Bar:
    """One horizontal bar in a ``width`` x ``height`` box."""

    width: int
    height: int
    fill: float  # length of the filled part
    marker: float | None  # x of the standard (pass mark), when there is one
    tone: str  # "good", "short" (below its standard) or "none" (no data)


def bar(
    value: Fraction | None,
    standard: Fraction | None = None,
    scale: Fraction = SCALE,
    width: int = 240,
    height: int = 14,
) -> Bar:
    def x(v: Fraction) -> float:
        return float(width * min(max(v, Fraction(0)), scale) / scale) if scale else 0.0

    marker = None if standard is None else x(standard)
    if value is None:
        return Bar(width, height, 0.0, marker, "none")
    tone = "short" if standard is not None and value < standard else "good"
    return Bar(width, height, x(value), marker, tone)


@dataclass(frozen=True)
class TrendDot:
    x: float
    y: float
    label: str  # the wave, shortened to fit under its point
    value: str  # the mean as shown
    low_y: float | None  # the 95% interval as a whisker, when there is one
    high_y: float | None
    current: bool  # the last point: the wave the report is about
    empty: bool  # no figure for this wave


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: float
    right: float
    dots: tuple[TrendDot, ...]
    path: str  # an SVG path through the points that have a mean
    grid: tuple[GridLine, ...]


def trend_chart(
    points: Sequence[TrendPoint], places: int = 1, width: int = 680, height: int = 190
) -> TrendChart:
    """A line over the waves, oldest first. The axis runs to 100 and starts at a round
    ten below the lowest figure, so a fall is visible without being exaggerated."""
    left, right, top, bottom = 34.0, width - 16.0, 14.0, height - 34.0
    figures = [v for p in points for v in (p.stat.mean, p.stat.low, p.stat.high) if v is not None]
    floor = min(figures, default=SCALE)
    lowest = max(0, min(int((floor - 10) // 10 * 10), 80))
    span = SCALE - lowest

    def y(v: Fraction) -> float:
        clamped = min(max(v, Fraction(lowest)), SCALE)
        return bottom - float((clamped - lowest) / span) * (bottom - top)

    step = (right - left) / max(len(points), 1)
    limit = max(6, int(step / 6.5))  # about 6.5 units per narrow character at 10 units
    dots = []
    for index, point in enumerate(points):
        mean, stat = point.stat.mean, point.stat
        dots.append(
            TrendDot(
                x=left + step * (index + 0.5),
                y=bottom if mean is None else y(mean),
                label=shorten(point.label, limit),
                value=number(mean, places),
                low_y=None if stat.low is None or mean is None else y(stat.low),
                high_y=None if stat.high is None or mean is None else y(stat.high),
                current=index == len(points) - 1,
                empty=mean is None,
            )
        )
    # A wave without data breaks the line: nothing is drawn across it.
    path, pen_down = [], False
    for dot, point in zip(dots, points, strict=True):
        if point.stat.mean is None:
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{dot.x:.1f},{dot.y:.1f}")
        pen_down = True
    ticks = range(lowest, 101, 10 if span <= 50 else 20)
    grid = tuple(GridLine(y(Fraction(t)), str(t)) for t in ticks)
    return TrendChart(width, height, left, right, tuple(dots), " ".join(path), grid)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` narrow characters (a CJK character counts two)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > limit:
            return text[: max(index - 1, 1)] + "…"
    return text
