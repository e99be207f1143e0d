"""A store's approved visits of a wave as its scorecard prints them: every visible
question with its answer in words and its stored points, the comments, and the
thumbnails of the photos (for the PDF). Six queries whatever the number of visits
(plus four per checklist version).

Rules decided here:

- Questions hidden by a condition are left out; the others keep the checklist's
  numbering (1, 2, 3 … across sections), so a number means the same question on every
  visit. N/A and unanswered questions are shown as such.
- Points are the stored results (services/visits/results.py); a visit approved before results
  were stored is scored again from its answers, with the same engine.
- A visit an upheld appeal adjusted carries its approved result too (score, grade,
  pass), kept in Visit.original_*; its score is the adjusted one.
- Comments: the overall one first ("" as its title), then the sections' in checklist
  order. Photos: thumbnails of the visit's photos in upload order, only those whose
  file is on disk and that the reader may see (permissions.may_see_evidence: the
  agency sees them all, the client's managers only those of client-visible photo
  questions). The shopper is never named.
"""

from collections.abc import Sequence
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import scoring
from reports.breakdowns import checklist_language, local
from reports.cards import QuestionLine, VisitDetail

from ...extensions import db
from ...models import ChecklistQuestion, ChecklistSection, ChecklistVersion, Store, User
from ...models.answers import Evidence, VisitAnswer, VisitComment
from ...models.results import VisitQuestionResult
from ...models.waves import APPROVED, Visit, Wave
from ...permissions import may_see_evidence
from ..checklists import scoring_checklist
from ..visits import answer_text, evidence_path

Points = tuple[Fraction, Fraction, bool, bool]  # earned, possible, applicable, critical failed
Loaded = tuple[scoring.Checklist, dict[int, str]]  # the checklist, {question id: key}


def load_checklist(version_id: int) -> Loaded:
    """The version as the scoring engine's checklist, loaded in four queries, and
    {question id: key}."""
    version = db.session.scalars(
        select(ChecklistVersion)
        .options(
            selectinload(ChecklistVersion.sections)
            .selectinload(ChecklistSection.questions)
            .selectinload(ChecklistQuestion.options)
        )
        .where(ChecklistVersion.id == version_id)
    ).one()
    return scoring_checklist(version), {q.id: q.key for q in version.questions()}


def visit_details(
    store: Store,
    wave: Wave,
    reader: User,
    language: str | None,
    loaded: dict[int, Loaded] | None = None,
) -> tuple[VisitDetail, ...]:
    """The store's approved visits of the wave, oldest first, as ``reader`` may see
    them; ``loaded``: checklists already loaded ({version id: load_checklist(version
    id)})."""
    visits = list(
        db.session.scalars(
            select(Visit)
            .where(Visit.wave_id == wave.id, Visit.store_id == store.id, Visit.status == APPROVED)
            .order_by(Visit.window_start, Visit.id)
        )
    )
    if not visits:
        return ()
    ids = [v.id for v in visits]
    checklists = dict(loaded or {})
    for version_id in {v.checklist_version_id for v in visits} - set(checklists):
        checklists[version_id] = load_checklist(version_id)
    answers, points, comments = _answers(ids), _points(ids), _comments_of(ids)
    photos = _photos(visits, checklists, reader)
    zone = ZoneInfo(store.timezone)
    out = []
    for visit in visits:
        checklist, keys = checklists[visit.checklist_version_id]
        by_key = {keys[qid]: p for qid, p in points.get(visit.id, {}).items() if qid in keys}
        out.append(
            VisitDetail(
                visit_id=visit.id,
                day=(visit.started_at or visit.window_start).astimezone(zone).date(),
                score=scoring.to_fraction(visit.score) if visit.score_exact is None
                else Fraction(visit.score_exact),
                grade=_grade(visit.grade, checklist, language),
                passed=None if visit.result is None else visit.result == "PASS",
                questions=_lines(checklist, answers.get(visit.id, {}), by_key, language),
                comments=_comments(checklist, comments.get(visit.id, {}), language),
                photo_paths=tuple(photos.get(visit.id, ())),
                **_original(visit, checklist, language),
            )
        )  # fmt: skip
    return tuple(out)


def _answers(ids: list[int]) -> dict[int, dict[str, Any]]:
    answers: dict[int, dict[str, Any]] = {}
    for visit_id, key, value in db.session.execute(
        select(VisitAnswer.visit_id, ChecklistQuestion.key, VisitAnswer.value)
        .join(ChecklistQuestion, ChecklistQuestion.id == VisitAnswer.question_id)
        .where(VisitAnswer.visit_id.in_(ids))
    ):
        answers.setdefault(visit_id, {})[key] = value
    return answers


def _points(ids: list[int]) -> dict[int, dict[int, Points]]:
    points: dict[int, dict[int, Points]] = {}
    q = VisitQuestionResult
    for visit_id, question_id, earned, possible, applicable, failed in db.session.execute(
        select(q.visit_id, q.question_id, q.earned, q.possible, q.applicable, q.critical_failed)
        .where(q.visit_id.in_(ids))
    ):  # fmt: skip
        points.setdefault(visit_id, {})[question_id] = (
            Fraction(earned), Fraction(possible), bool(applicable), bool(failed)
        )  # fmt: skip
    return points


def _comments_of(ids: list[int]) -> dict[int, dict[str, str]]:
    comments: dict[int, dict[str, str]] = {}
    for visit_id, section_key, text in db.session.execute(
        select(VisitComment.visit_id, VisitComment.section_key, VisitComment.text).where(
            VisitComment.visit_id.in_(ids)
        )
    ):
        comments.setdefault(visit_id, {})[section_key] = text
    return comments


def _photos(
    visits: list[Visit], checklists: dict[int, Loaded], reader: User
) -> dict[int, list[str]]:
    """The thumbnails of each visit's photos that ``reader`` may see."""
    photos: dict[int, list[str]] = {}
    by_id = {v.id: v for v in visits}
    questions = {
        version_id: {q.key: q for q in checklist.questions()}
        for version_id, (checklist, _keys) in checklists.items()
    }
    for evidence in db.session.scalars(
        select(Evidence)
        .where(Evidence.visit_id.in_([v.id for v in visits]), Evidence.kind == "photo")
        .order_by(Evidence.id)
    ):
        visit = by_id[evidence.visit_id]
        question = questions[visit.checklist_version_id].get(evidence.question_key or "")
        if not may_see_evidence(reader, visit, question):
            continue
        path = evidence_path(evidence, thumb=True)
        if path is not None and path.is_file():
            photos.setdefault(evidence.visit_id, []).append(str(path))
    return photos


def _original(visit: Visit, checklist: scoring.Checklist, language: str | None) -> dict[str, Any]:
    """The approved result of a visit an upheld appeal adjusted since (nothing for the
    others): its score exact, its grade in the reader's language, and whether it passed."""
    if visit.original_score_exact is None and visit.original_score is None:
        return {}
    exact = visit.original_score_exact
    return {
        "adjusted": True,
        "original_score": Fraction(exact) if exact is not None
        else scoring.to_fraction(visit.original_score),
        "original_grade": _grade(visit.original_grade, checklist, language),
        "original_passed": None if visit.original_result is None
        else visit.original_result == "PASS",
    }  # fmt: skip


def _grade(label: str | None, checklist: scoring.Checklist, language: str | None) -> str | None:
    for band in checklist.scoring.bands:
        if band.label == label:
            return local(band.translations, language, "label", band.label)
    return label


def _lines(
    checklist: scoring.Checklist,
    stored: dict[str, Any],
    points: dict[str, Points],
    language: str | None,
) -> tuple[QuestionLine, ...]:
    validated = scoring.validate_answers(checklist, stored)
    if not points:
        outcome = scoring.score_visit(checklist, validated.answers)
        critical = set(outcome.critical_failures)
        points = {
            r.key: (r.earned, r.possible, r.applicable, r.key in critical)
            for r in outcome.questions
        }
    lines, lang = [], checklist_language(language)
    for number, question in enumerate(checklist.questions(), start=1):
        if question.key not in validated.visible:
            continue
        earned, possible, applicable, failed = points.get(
            question.key, (Fraction(0), Fraction(0), False, False)
        )
        lines.append(
            QuestionLine(
                number=str(number),
                key=question.key,
                text=local(question.translations, language, "text", question.text),
                answer=answer_text(question, validated.answers.get(question.key), lang),
                earned=earned,
                possible=possible,
                applicable=applicable,
                critical_failed=failed,
            )
        )
    return tuple(lines)


def _comments(
    checklist: scoring.Checklist, texts: dict[str, str], language: str | None
) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if texts.get(""):
        out.append(("", texts[""]))
    sections: Sequence[scoring.Section] = checklist.sections
    for section in sections:
        if texts.get(section.key):
            title = local(section.translations, language, "title", section.title)
            out.append((title, texts[section.key]))
    return tuple(out)
