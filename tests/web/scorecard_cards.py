"""Store scorecards and region reports built by hand for the PDF tests, with Chinese
names and titles, and a shopper comment that tries to be markup; plus the poppler
tools that read the PDFs back (pdftotext, pdffonts, pdfimages, pdftoppm)."""

import shutil
import subprocess
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from reports.cards import (
    Change,
    Nps,
    QuestionLine,
    QuestionStat,
    RegionReport,
    SectionLine,
    Stat,
    StoreRow,
    StoreScorecard,
    TrendPoint,
    VisitDetail,
)

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "翠鸟咖啡 Kingfisher Coffee"
STORE = "上海南京西路店"
SECTION_TITLES = ("迎宾与问候", "产品知识", "环境卫生", "收银与告别")
SCRIPT = "<script>alert('x')</script>"
COMMENT = "店员热情，但收银排队较长。 <b>not bold</b> & done"
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))


def stat(mean: Any, n: int, low: Any = None, high: Any = None) -> Stat:
    def f(v: Any) -> Fraction | None:
        return None if v is None else Fraction(v)

    return Stat(f(mean), n, f(low), f(high))


def sections() -> tuple[SectionLine, ...]:
    means = ("173/2", "62.5", "95", "70")
    standards = ("80", "80", "80", "75")
    return tuple(
        SectionLine(
            key=f"s{i}",
            title=title,
            stat=stat(mean, 3 if i < 3 else 2, Fraction(mean) - 6, Fraction(mean) + 6),
            standard=Fraction(standard),
            gap=max(Fraction(standard) - Fraction(mean), Fraction(0)),
        )
        for i, (title, mean, standard) in enumerate(
            zip(SECTION_TITLES, means, standards, strict=True)
        )
    )


def visit(number: int, photos: tuple[str, ...] = ()) -> VisitDetail:
    questions = tuple(
        QuestionLine(
            number=f"{s + 1}.{q + 1}",
            key=f"q{s}{q}",
            text=f"顾客进店30秒内是否有店员主动问候？ {SCRIPT}" if q == 0 else f"第{q + 1}题",
            answer="否" if q == 2 else "是",
            earned=Fraction(0 if q == 2 else 2),
            possible=Fraction(2),
            applicable=q != 3,
            critical_failed=s == 1 and q == 2,
        )
        for s in range(4)
        for q in range(4)
    )
    return VisitDetail(
        visit_id=100 + number,
        day=date(2026, 2, 3 + number),
        score=Fraction(173, 2),
        grade="良好",
        passed=True,
        questions=questions,
        comments=(("", COMMENT), (SECTION_TITLES[1], "未能说明保修条款。")),
        photo_paths=photos,
    )


def trend() -> tuple[TrendPoint, ...]:
    return (
        TrendPoint("2025年第三季度", date(2025, 7, 1), stat(78, 3, 72, 84)),
        TrendPoint("2025年第四季度", date(2025, 10, 1), stat(None, 0)),
        TrendPoint("2026年第一季度", PERIOD[0], stat("1665/20", 3, 80, 87)),
    )


def store_card(**changes: Any) -> StoreScorecard:
    values: dict[str, Any] = {
        "client_name": CLIENT,
        "store_code": "SH001",
        "store_name": STORE,
        "region_names": ("华东区", "上海"),
        "wave_name": "2026年第一季度",
        "period": PERIOD,
        # 83.25 shows as 83.3 (half-up; half-even would give 83.2).
        "score": stat("1665/20", 3, "80.1", "86.4"),
        "grade": "良好",
        "passed": True,
        "pass_rate": Fraction(2, 3),
        "change": Change(Fraction("4.25"), True),
        "rank_in_region": 3,
        "stores_in_region": 12,
        "sections": sections(),
        "trend": trend(),
        "visits": (visit(1), visit(2)),
        "to_improve": sections()[1::2],
        "nps": Nps(Fraction(40), Fraction(3, 5), Fraction(1, 5), Fraction(1, 5), 5),
        "corrective_actions": ("收银台高峰期增开一个通道",),
    }
    values.update(changes)
    return StoreScorecard(**values)


def region_report(**changes: Any) -> RegionReport:
    rows = tuple(
        StoreRow(
            rank=i + 1,
            store_code=f"SH{i:03d}",
            store_name=f"上海门店{i}号",
            stat=stat(95 - 3 * i, 3 if i % 4 else 2),
            change=Change(Fraction(i - 3), i == 5),
            grade="良好" if i < 5 else "一般",
            pass_rate=Fraction(i % 3, 3),
        )
        for i in range(8)
    )
    values: dict[str, Any] = {
        "client_name": CLIENT,
        "region_name": "华东区",
        "wave_name": "2026年第一季度",
        "period": PERIOD,
        "score": stat("83.35", 8, 80, 86),
        "visits": 22,
        "change": Change(Fraction("-1.2"), False),
        "stores": rows,
        "sections": sections(),
        "worst_questions": tuple(
            QuestionStat(
                f"q{i}",
                f"是否主动介绍会员权益{i}",
                "产品知识",
                Fraction(30 + 7 * i, 100),
                Fraction(1, 4),
                22,
            )
            for i in range(5)
        ),  # fmt: skip
        "trend": trend(),
        "grades": (("优秀", 4), ("良好", 12), ("一般", 5), ("较差", 1)),
        "pass_rate": Fraction(17, 22),
        "early_warning": rows[-1:],
        "nps": Nps(Fraction(-12), Fraction(1, 5), Fraction(12, 25), Fraction(8, 25), 25),
    }
    values.update(changes)
    return RegionReport(**values)


# --- reading a PDF back -------------------------------------------------------------


def poppler(tool: str, *args: str) -> str:
    program = shutil.which(tool)
    assert program, f"{tool} is missing: install poppler-utils (bash scripts/install-browser.sh)"
    done = subprocess.run([program, *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    return poppler("pdftotext", "-enc", "UTF-8", str(path), "-")


def words(text: str) -> str:
    """The text with every run of white space as one space (line breaks vary)."""
    return " ".join(text.split())


def compact(text: str) -> str:
    """The text without white space, as a reader sees it whatever the line breaks."""
    return "".join(text.split())
