"""The ``copied_comment`` integrity check (services/visits/integrity.py runs it): a comment of
the submission that equals or nearly equals one another visit's shopper wrote.

- A comment counts from MIN_COMMENT_CHARS letters and digits on: shorter ones ("All
  fine.") are the same everywhere.
- Two comments are compared after NFKC, lower-casing and dropping everything but
  letters, marks and digits (so spacing and punctuation, Chinese full-width ones too,
  never hide a copy), by the Jaccard similarity of their character 3-grams; SIMILAR
  (4/5) or more is a copy.
- Compared with: the latest submission of every other visit of the same client
  submitted in the COMMENT_DAYS before this submission, at most the
  MAX_COMPARED_VISITS most recent such visits, so the query stays bounded.
"""

import unicodedata
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select

from ...extensions import db
from ...models.answers import VisitSubmission
from ...models.waves import Visit, Wave

MIN_COMMENT_CHARS = 20
SIMILAR = Fraction(4, 5)  # 3-gram Jaccard at or above this is a copy
COMMENT_DAYS = 180
MAX_COMPARED_VISITS = 5000  # the most recent ones, so a huge client stays bounded

Prepared = tuple[str, frozenset[str]]  # the normalised comment and its 3-grams


def copied_comments(
    visit: Visit, comments: dict[str, Any] | None, submitted_at: datetime
) -> dict[str, Any] | None:
    """The flag's detail: each of ``comments`` (the submission's, by section key) that
    copies an earlier comment, with the most similar one; None when none does."""
    mine = {
        key: prepared
        for key, text in (comments or {}).items()
        if (prepared := _comment_grams(text)) is not None
    }
    if not mine:
        return None
    found = []
    others = _earlier_comments(visit, submitted_at)
    for key, (norm, grams) in mine.items():
        best: tuple[Fraction, int, str] | None = None
        for visit_id, other_key, (other_norm, other_grams) in others:
            similarity = _jaccard(norm, grams, other_norm, other_grams)
            if similarity >= SIMILAR and (best is None or similarity > best[0]):
                best = (similarity, visit_id, other_key)
        if best is not None:
            found.append(
                {
                    "section": key,
                    "other_visit_id": best[1],
                    "other_section": best[2],
                    "similarity": round(float(best[0]), 3),
                }
            )
    return {"comments": found} if found else None


def _earlier_comments(visit: Visit, until: datetime) -> list[tuple[int, str, Prepared]]:
    """Long-enough comments of the latest submission of every other visit of the same
    client submitted in the COMMENT_DAYS before ``until``, newest visits first."""
    latest = (
        select(func.max(VisitSubmission.id))
        .join(Visit, Visit.id == VisitSubmission.visit_id)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(
            Wave.client_id == visit.wave.client_id,
            VisitSubmission.visit_id != visit.id,
            VisitSubmission.submitted_at >= until - timedelta(days=COMMENT_DAYS),
            VisitSubmission.submitted_at <= until,
        )
        .group_by(VisitSubmission.visit_id)
    )
    rows = db.session.execute(
        select(VisitSubmission.visit_id, VisitSubmission.comments)
        .where(VisitSubmission.id.in_(latest))
        .order_by(VisitSubmission.id.desc())
        .limit(MAX_COMPARED_VISITS)
    ).all()
    comments = []
    for visit_id, texts in rows:
        for key, text in (texts or {}).items():
            if (prepared := _comment_grams(text)) is not None:
                comments.append((visit_id, str(key), prepared))
    return comments


def comment_similarity(first: str, second: str) -> float:
    """How alike two comments are, 0..1, as the copied_comment check measures it."""
    a, b = _normalise(first), _normalise(second)
    return float(_jaccard(a, _trigrams(a), b, _trigrams(b)))


def _normalise(text: str) -> str:
    """Lower case, letters, marks and digits only: spacing and punctuation (Chinese
    full-width ones too) never hide a copy."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LMN")


def _trigrams(norm: str) -> frozenset[str]:
    return frozenset(norm[i : i + 3] for i in range(len(norm) - 2))


def _comment_grams(text: object) -> Prepared | None:
    norm = _normalise(str(text or ""))
    return (norm, _trigrams(norm)) if len(norm) >= MIN_COMMENT_CHARS else None


def _jaccard(a: str, grams_a: frozenset[str], b: str, grams_b: frozenset[str]) -> Fraction:
    if a == b:
        return Fraction(1)
    small, big = sorted((len(grams_a), len(grams_b)))
    if big == 0 or Fraction(small, big) < SIMILAR:
        return Fraction(0)  # too different in length to be a copy (quick exit)
    shared = len(grams_a & grams_b)
    return Fraction(shared, len(grams_a) + len(grams_b) - shared)
