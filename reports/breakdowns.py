"""Where a score comes from: sections with their gap to the standard, questions with
compliance and full-credit share, critical failures, compliance against effectiveness,
grades, pass rates and NPS (SCORING.md §5, DOMAIN.md "What results are for").

Rules decided here:

- Section roll-up: mean of the section's scores over the visits where it applied (each
  visit equal), with n = those visits and the 95% interval. Input rows carry the exact
  section score and, optionally, a ``count`` of visits with that very score, so the
  database can group equal scores and send one row each.
- Standard: the section's pass mark, else the checklist's; gap = standard − mean
  (positive: short of the standard by that much; zero or negative: meets it); None
  without a standard or without data.
- To improve: the lowest sections by mean, worst first; ties keep checklist order.
- Question roll-up: compliance = Σearned / Σpossible over applicable answers (a share,
  0..1; None when Σpossible = 0, e.g. a bonus question); full-credit share = the share
  of those answers that earned full points; n = applicable answers. Worst questions: lowest
  compliance first, then lower full-credit share, then more answers, then checklist
  order.
- Compliance against effectiveness (the question ``tag``): the same two figures pooled
  over the tagged questions.
- Grades: visits per grade band, best band first, every band listed (0 when none), in
  the reader's language; labels no band knows (an older checklist version) follow.
  A store's grade is the band of its displayed mean; it "passes" when that displayed
  mean reaches the checklist's pass mark (None without a pass mark or a score).
- NPS over every ``nps`` answer: see reports/stats.nps. None when the checklist has no
  ``nps`` question.
- Texts are the checklist's, in ``language`` when it has a translation ("zh" or
  "zh_Hans" both pick "zh"), else as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import pandas as pd

import scoring
from reports.cards import Nps, QuestionStat, SectionLine, TagLine
from reports.rollups import exact
from reports.stats import Moments, describe, nps, share, shown
from scoring.model import TAGS, Translations

QUESTION_COLUMNS = ("question_key", "earned", "possible", "answers", "full_credit")
NPS_COLUMNS = ("promoters", "passives", "detractors")
TO_IMPROVE = 3
WORST_QUESTIONS = 10


def checklist_language(language: str | None) -> str | None:
    """The translation key a checklist uses for a UI locale: "zh_Hans" → "zh"."""
    if not language:
        return None
    return language.replace("-", "_").split("_")[0].lower()


def local(translations: Translations, language: str | None, field: str, fallback: str) -> str:
    lang = checklist_language(language)
    return scoring.localized(translations, lang, field, fallback) if lang else fallback


# --- sections -------------------------------------------------------------------------


def section_lines(
    scores: pd.DataFrame, checklist: scoring.Checklist, language: str | None = None
) -> tuple[SectionLine, ...]:
    """One line per section of the checklist, in its order (see the module docstring).
    ``scores``: ``section_key``, ``score`` (None where the section did not apply) and
    optionally ``count``."""
    counts = scores["count"].tolist() if "count" in scores.columns else [1] * len(scores)
    found: dict[str, list[tuple[Fraction, int]]] = {}
    for key, value, count in zip(
        scores["section_key"].tolist(), scores["score"].tolist(), counts, strict=True
    ):
        score = exact(value)
        if score is not None:
            found.setdefault(key, []).append((score, int(count)))
    moments = {key: Moments.weighted(pairs) for key, pairs in found.items()}
    lines = []
    for section in checklist.sections:
        stat = describe(moments.get(section.key, Moments()))
        standard = section.pass_mark
        if standard is None:
            standard = checklist.scoring.pass_mark
        gap = None if standard is None or stat.mean is None else standard - stat.mean
        title = local(section.translations, language, "title", section.title)
        lines.append(SectionLine(section.key, title, stat, standard, gap))
    return tuple(lines)


def to_improve(lines: Iterable[SectionLine], n: int = TO_IMPROVE) -> tuple[SectionLine, ...]:
    """The n lowest-scoring sections with a score, worst first, leaving out those that
    meet their standard: a store that meets every standard has nothing listed. The
    store page and the PDF both print this list as it is."""
    scored = [
        (line.stat.mean, i, line)
        for i, line in enumerate(lines)
        if line.stat.mean is not None and (line.gap is None or line.gap > 0)
    ]
    scored.sort(key=lambda item: (item[0], item[1]))
    return tuple(line for _mean, _i, line in scored[:n])


# --- questions ------------------------------------------------------------------------


def question_stats(
    figures: pd.DataFrame, checklist: scoring.Checklist, language: str | None = None
) -> tuple[QuestionStat, ...]:
    """One QuestionStat per scored question of the checklist, in its order. ``figures``:
    one or more rows per question key with ``earned`` and ``possible`` (exact sums over
    applicable answers), ``answers`` (applicable answers), ``full_credit`` (of those, how
    many earned full points) and optionally ``critical_failed``."""
    sums = _sums(figures)
    out = []
    for section in checklist.sections:
        title = local(section.translations, language, "title", section.title)
        for question in section.questions:
            if not question.scored:
                continue
            earned, possible, answers, full, failed = sums.get(
                question.key, (Fraction(0), Fraction(0), 0, 0, 0)
            )
            out.append(
                QuestionStat(
                    key=question.key,
                    text=local(question.translations, language, "text", question.text),
                    section_title=title,
                    compliance=share(earned, possible),
                    full_credit_share=share(full, answers),
                    n=answers,
                    tag=question.tag,
                    critical_failures=failed,
                )
            )
    return tuple(out)


def _sums(figures: pd.DataFrame) -> dict[str, tuple[Fraction, Fraction, int, int, int]]:
    missing = [c for c in QUESTION_COLUMNS if c not in figures.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    failed = (
        figures["critical_failed"].tolist()
        if "critical_failed" in figures.columns
        else [0] * len(figures)
    )
    sums: dict[str, tuple[Fraction, Fraction, int, int, int]] = {}
    for key, earned, possible, answers, full, fail in zip(
        figures["question_key"].tolist(),
        figures["earned"].tolist(),
        figures["possible"].tolist(),
        figures["answers"].tolist(),
        figures["full_credit"].tolist(),
        failed,
        strict=True,
    ):
        e0, p0, a0, f0, x0 = sums.get(key, (Fraction(0), Fraction(0), 0, 0, 0))
        sums[key] = (
            e0 + (exact(earned) or Fraction(0)),
            p0 + (exact(possible) or Fraction(0)),
            a0 + int(answers or 0),
            f0 + int(full or 0),
            x0 + int(fail or 0),
        )
    return sums


def worst_questions(
    stats: Sequence[QuestionStat], n: int = WORST_QUESTIONS
) -> tuple[QuestionStat, ...]:
    """The n questions with the lowest compliance (see the module docstring)."""
    order = {id(stat): i for i, stat in enumerate(stats)}
    rated = [s for s in stats if s.compliance is not None]
    rated.sort(key=lambda s: (s.compliance, s.full_credit_share or Fraction(0), -s.n, order[id(s)]))
    return tuple(rated[:n])


def critical_failures(stats: Sequence[QuestionStat]) -> tuple[QuestionStat, ...]:
    """Questions whose critical item failed at least once, most failures first."""
    failed = [s for s in stats if s.critical_failures]
    return tuple(sorted(failed, key=lambda s: -s.critical_failures))


def by_tag(stats: Sequence[QuestionStat], figures: pd.DataFrame) -> tuple[TagLine, ...]:
    """Compliance against effectiveness: Σearned/Σpossible and the full-credit share
    pooled over the questions of each tag (both tags, always)."""
    sums = _sums(figures)
    lines = []
    for tag in TAGS:
        keys = [s.key for s in stats if s.tag == tag]
        totals = [sums[k] for k in keys if k in sums]
        earned = sum((t[0] for t in totals), Fraction(0))
        possible = sum((t[1] for t in totals), Fraction(0))
        answers = sum(t[2] for t in totals)
        full = sum(t[3] for t in totals)
        lines.append(
            TagLine(
                tag=tag,
                compliance=share(earned, possible),
                full_credit_share=share(full, answers),
                questions=len(keys),
                n=answers,
            )
        )
    return tuple(lines)


def nps_of(figures: pd.DataFrame, checklist: scoring.Checklist) -> Nps | None:
    """NPS over the ``nps`` questions' answers: ``figures`` has ``question_key`` and the
    counts ``promoters``, ``passives``, ``detractors``."""
    keys = {q.key for q in checklist.questions() if q.type == "nps"}
    if not keys:
        return None
    counts = [0, 0, 0]
    if not figures.empty and all(c in figures.columns for c in NPS_COLUMNS):
        rows = figures[figures["question_key"].isin(list(keys))]
        counts = [int(rows[c].fillna(0).sum()) for c in NPS_COLUMNS]
    return nps(*counts)


# --- grades and pass --------------------------------------------------------------------


def _bands(checklist: scoring.Checklist) -> list[scoring.GradeBand]:
    return sorted(checklist.scoring.bands, key=lambda band: band.min, reverse=True)


def grader(
    checklist: scoring.Checklist, language: str | None = None
) -> Callable[[Fraction | None], str | None]:
    """``grade_for`` for many means at once: band thresholds in whole units of the
    displayed precision, so each mean costs two integer operations."""
    decimals = checklist.scoring.decimals
    scale = 10**decimals
    bands = [  # units >= min * scale, for whole units, is units >= ceil(min * scale)
        (math.ceil(band.min * scale), local(band.translations, language, "label", band.label))
        for band in _bands(checklist)
    ]

    def grade(mean: Fraction | None) -> str | None:
        if mean is None:
            return None
        top, below = mean.numerator, mean.denominator
        units = (2 * abs(top) * scale + below) // (2 * below)  # half-up, as displayed
        units = units if top >= 0 else -units
        return next((label for low, label in bands if low <= units), None)

    return grade


def grade_for(
    mean: Fraction | None, checklist: scoring.Checklist, language: str | None = None
) -> str | None:
    """The band of the mean as displayed, in the reader's language."""
    return grader(checklist, language)(mean)


def passes(mean: Fraction | None, checklist: scoring.Checklist) -> bool | None:
    mark = checklist.scoring.pass_mark
    if mean is None or mark is None:
        return None
    return shown(mean, checklist.scoring.decimals) >= mark


def grade_counts(
    grades: Iterable[str | None], checklist: scoring.Checklist, language: str | None = None
) -> tuple[tuple[str, int], ...]:
    """Visits per grade (stored labels in), best band first, every band listed."""
    tally: dict[str, int] = {}
    for grade in grades:
        if grade is not None and grade == grade:  # not None, not NaN
            tally[grade] = tally.get(grade, 0) + 1
    out = []
    for band in _bands(checklist):
        out.append(
            (local(band.translations, language, "label", band.label), tally.pop(band.label, 0))
        )
    out.extend(tally.items())
    return tuple(out)
