"""What a store scorecard and a region report show, as plain frozen data.

The data layer (reports/data.py, filled from the database by
auditapp/services/reporting/rows.py) builds these; the HTML dashboards and the PDFs
(reports/render.py) only lay them out. Numbers stay exact (Fraction) until a
template rounds them for display (half-up, SCORING.md), so a page and its PDF can
never disagree.

Scores (and means, intervals, gaps, changes of scores) are on the 0–100 scale. Every
share — pass rate, compliance, full-credit share, the three NPS shares — is a
fraction 0..1 (a template shows it as a percentage); the NPS itself is in points,
−100..100 (100 × (promoters − detractors)).
"""

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction


@dataclass(frozen=True)
class Stat:
    """A mean with its n and, from n = 2, its 95% interval (Student t)."""

    mean: Fraction | None
    n: int
    low: Fraction | None = None
    high: Fraction | None = None

    @property
    def low_sample(self) -> bool:
        """Fewer than three visits (or stores): say so next to the figure."""
        return self.n < 3


@dataclass(frozen=True)
class Change:
    """This period against the one before: significant only when the new mean lies
    outside the old interval and the old mean outside the new one."""

    delta: Fraction | None
    significant: bool


@dataclass(frozen=True)
class Nps:
    """NPS = % promoters (9-10) - % detractors (0-6), always with the three shares."""

    score: Fraction | None
    promoters: Fraction
    passives: Fraction
    detractors: Fraction
    n: int


@dataclass(frozen=True)
class SectionLine:
    key: str
    title: str
    stat: Stat
    # The standard the section is held to (its pass mark, else the checklist's), and
    # how far the observed mean falls short of it (gap analysis; None when no data).
    standard: Fraction | None = None
    gap: Fraction | None = None


@dataclass(frozen=True)
class QuestionLine:
    """One question of one visit, as the scorecard prints it."""

    number: str
    key: str
    text: str
    answer: str
    earned: Fraction
    possible: Fraction
    applicable: bool
    critical_failed: bool = False


@dataclass(frozen=True)
class QuestionStat:
    """One question over many visits: compliance = sum earned / sum possible."""

    key: str
    text: str
    section_title: str
    compliance: Fraction | None
    full_credit_share: Fraction | None
    n: int
    tag: str | None = None  # "compliance" or "effectiveness"
    critical_failures: int = 0  # answers of a critical question that failed it


@dataclass(frozen=True)
class TagLine:
    """Compliance (was the standard followed) against effectiveness (did it work): the
    questions of one tag pooled, compliance = sum earned / sum possible."""

    tag: str  # "compliance" or "effectiveness"
    compliance: Fraction | None
    full_credit_share: Fraction | None
    questions: int
    n: int  # applicable answers


@dataclass(frozen=True)
class VisitDetail:
    """One visit as printed. ``score``, ``grade`` and ``passed`` are the current result;
    a visit adjusted by an upheld appeal also carries its approved (original) one."""

    visit_id: int
    day: date
    score: Fraction | None
    grade: str | None
    passed: bool | None
    questions: tuple[QuestionLine, ...]
    comments: tuple[tuple[str, str], ...]  # (section title, or "" for overall; text)
    photo_paths: tuple[str, ...] = ()  # thumbnails on local disk, for the PDF
    adjusted: bool = False  # changed by an upheld appeal since its approval
    original_score: Fraction | None = None
    original_grade: str | None = None
    original_passed: bool | None = None


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the wave's name
    starts_on: date
    stat: Stat


@dataclass(frozen=True)
class StoreRow:
    rank: int | None
    store_code: str
    store_name: str
    stat: Stat
    change: Change | None = None
    grade: str | None = None
    pass_rate: Fraction | None = None


@dataclass(frozen=True)
class StoreScorecard:
    client_name: str
    store_code: str
    store_name: str
    region_names: tuple[str, ...]  # from the top of the tree down to the store's region
    wave_name: str
    period: tuple[date, date]
    score: Stat
    grade: str | None
    passed: bool | None  # the store's visits' pass rate is in pass_rate
    pass_rate: Fraction | None
    change: Change | None
    rank_in_region: int | None
    stores_in_region: int
    sections: tuple[SectionLine, ...]
    trend: tuple[TrendPoint, ...]
    visits: tuple[VisitDetail, ...]
    to_improve: tuple[SectionLine, ...]  # the lowest-scoring sections, worst first
    nps: Nps | None = None
    corrective_actions: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RegionReport:
    client_name: str
    region_name: str
    wave_name: str
    period: tuple[date, date]
    score: Stat  # mean of store means (each store equal), n = stores
    visits: int
    change: Change | None
    stores: tuple[StoreRow, ...]  # ranked; ties by more visits, then store code
    sections: tuple[SectionLine, ...]
    worst_questions: tuple[QuestionStat, ...]
    trend: tuple[TrendPoint, ...]
    grades: tuple[tuple[str, int], ...]  # grade label -> visits, best band first
    pass_rate: Fraction | None
    early_warning: tuple[StoreRow, ...]  # declined three waves in a row
    nps: Nps | None = None
    critical_failures: tuple[QuestionStat, ...] = ()  # most failures first
    tags: tuple[TagLine, ...] = ()  # compliance vs effectiveness
