"""The PDF's display helpers and chart geometry: half-up rounding as SCORING.md says,
CSS strings that cannot break out of their rule, and charts that do not draw across
a wave without data."""

from datetime import date
from fractions import Fraction

import pytest

from reports.cards import Stat, TrendPoint
from reports.charts import bar, shorten, trend_chart
from reports.render import css_string, number, page_label_content, percent, points, signed


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Fraction(1665, 20), 1, "83.3"),  # 83.25: half-up, not half-even
        (Fraction(200, 3), 1, "66.7"),
        (Fraction(173, 2), 0, "87"),
        (Fraction(80), 1, "80.0"),
        (Fraction(-1, 20), 1, "−0.1"),
        (None, 1, "—"),
    ],
)
def test_number_rounds_half_up(value: Fraction | None, places: int, shown: str) -> None:
    assert number(value, places) == shown


def test_signed_percent_and_points() -> None:
    assert signed(Fraction(17, 4)) == "+4.3"
    assert signed(Fraction(-13, 10)) == "−1.3"
    assert signed(Fraction(1, 100)) == "±0.0"
    assert percent(Fraction(2, 3)) == "67%" and percent(Fraction(1, 8), 1) == "12.5%"
    assert [points(Fraction(v)) for v in ("2", "1.5", "0.25", "10", "1/3")] == [
        "2", "1.5", "0.25", "10", "0.33",
    ]  # fmt: skip


def test_css_strings_cannot_close_the_style_element() -> None:
    text = css_string('第 "x" </style><script>\\')
    assert text.startswith('"') and text.endswith('"')
    assert "<" not in text and ">" not in text and '"x"' not in text and "\\\\" not in text


def test_page_label_keeps_the_translations_order() -> None:
    assert page_label_content("Page {page} of {pages}") == (
        '"Page " counter(page) " of " counter(pages)'
    )
    assert page_label_content("共 {pages} 页，第 {page} 页") == (
        '"共 " counter(pages) " 页\\00ff0c第 " counter(page) " 页"'
    )


def test_bars_clamp_and_flag_a_section_below_its_standard() -> None:
    short = bar(Fraction(62), Fraction(80), width=200)
    assert (short.fill, short.marker, short.tone) == (124.0, 160.0, "short")
    assert bar(Fraction(120)).fill == bar(Fraction(100)).fill == 240.0
    assert bar(None).tone == "none" and bar(None).fill == 0


def _point(label: str, mean: int | None) -> TrendPoint:
    value = None if mean is None else Fraction(mean)
    return TrendPoint(label, date(2026, 1, 1), Stat(value, 3 if value else 0))


def test_the_trend_line_breaks_at_a_wave_without_data() -> None:
    chart = trend_chart([_point("A", 70), _point("B", None), _point("C", 80), _point("D", 85)])
    assert chart.path.count("M") == 2 and chart.path.count("L") == 1
    assert [d.empty for d in chart.dots] == [False, True, False, False]
    assert chart.dots[-1].current and chart.dots[0].value == "70.0"
    assert chart.grid[0].label == "60" and chart.grid[-1].label == "100"
    assert chart.dots[3].y < chart.dots[2].y < chart.dots[0].y  # higher is better


def test_long_wave_names_are_shortened_counting_chinese_as_wide() -> None:
    assert shorten("2026 Q1", 10) == "2026 Q1"
    assert shorten("二〇二六年第一季度全国巡检", 10).endswith("…")
    assert len(shorten("二〇二六年第一季度全国巡检", 10)) <= 6
