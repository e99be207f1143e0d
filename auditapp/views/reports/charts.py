"""What the report pages (views/reports.py, templates/reports/) use to show figures:
numbers rounded half-up from the exact Fractions (reports/render.py, as the PDFs do),
a mean's interval as "± x" or "[low – high]", the direction of a change, and the chart
geometry of reports/charts.py sized for a phone (the SVG scales to its box)."""

from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from typing import Any

from flask_babel import format_date

from reports import charts, render
from reports.cards import Stat, TrendPoint

TREND_WIDTH, TREND_HEIGHT = 360, 200  # chart units, about a phone's width in CSS pixels


def plus_minus(stat: Stat, places: int = 1) -> str:
    """The 95% interval's half-width as "± 8.3" (empty without an interval)."""
    if stat.mean is None or stat.low is None or stat.high is None:
        return ""
    return "± " + render.number((stat.high - stat.low) / 2, places)


def bounds(stat: Stat, places: int = 1) -> str:
    """The 95% interval as "[64.2 – 80.8]" (empty without an interval)."""
    if stat.mean is None or stat.low is None or stat.high is None:
        return ""
    return f"[{render.number(stat.low, places)} – {render.number(stat.high, places)}]"


def direction(delta: Fraction | None, places: int = 1) -> str:
    """ "up", "down" or "flat", as the change is shown (one shown as ±0.0 is flat)."""
    if delta is None or render.signed(delta, places).startswith("±"):
        return "flat"
    return "up" if delta > 0 else "down"


def share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def trend(points: Sequence[TrendPoint], places: int = 1) -> charts.TrendChart:
    return charts.trend_chart(points, places, TREND_WIDTH, TREND_HEIGHT)


def fmt_date(day: date) -> str:
    return str(format_date(day, "medium"))


def fmt_period(period: tuple[date, date]) -> str:
    return f"{fmt_date(period[0])} – {fmt_date(period[1])}"


def helpers() -> dict[str, Any]:
    """The report templates' helpers (a context processor of the reports blueprint)."""
    return {
        "num": render.number,
        "signed": render.signed,
        "pct": render.percent,
        "points": render.points,
        "plus_minus": plus_minus,
        "bounds": bounds,
        "direction": direction,
        "share": share,
        "bar": charts.bar,
        "trend_chart": trend,
        "fmt_date": fmt_date,
        "fmt_period": fmt_period,
    }
