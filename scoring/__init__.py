"""Pure scoring for auditapp: checklists in, visit results out (see docs/SCORING.md).

Standard library only and exact arithmetic throughout; nothing here knows about Flask or
the database.
"""

from scoring.answers import (
    Answer,
    Validated,
    condition_holds,
    missing_required,
    validate_answers,
    visible_keys,
)
from scoring.checklist_dump import dump_checklist
from scoring.checklist_load import load_checklist
from scoring.document_fields import ChecklistError, Problem
from scoring.exact import dumps_exact, loads_exact, round_half_up, to_fraction
from scoring.lint import LintIssue, lint_checklist
from scoring.model import (
    NA,
    QUESTION_TYPES,
    SCORED_TYPES,
    Checklist,
    Condition,
    GradeBand,
    Option,
    PointBand,
    Question,
    ScoringRules,
    Section,
    localized,
)
from scoring.numbers import (
    EXPONENT,
    INVALID,
    MAX_PLACES,
    MAX_WHOLE_DIGITS,
    TOO_LONG,
    NumberError,
    exact_number,
    parse_number,
    parse_whole_number,
)
from scoring.points import nps_category
from scoring.visit import AnswerError, QuestionResult, SectionResult, VisitResult, score_visit

__all__ = [
    "MAX_PLACES",
    "MAX_WHOLE_DIGITS",
    "NA",
    "EXPONENT",
    "INVALID",
    "TOO_LONG",
    "NumberError",
    "QUESTION_TYPES",
    "SCORED_TYPES",
    "Answer",
    "AnswerError",
    "Checklist",
    "ChecklistError",
    "Condition",
    "GradeBand",
    "LintIssue",
    "Option",
    "PointBand",
    "Problem",
    "Question",
    "QuestionResult",
    "ScoringRules",
    "Section",
    "SectionResult",
    "Validated",
    "VisitResult",
    "condition_holds",
    "dump_checklist",
    "dumps_exact",
    "exact_number",
    "lint_checklist",
    "load_checklist",
    "loads_exact",
    "localized",
    "missing_required",
    "nps_category",
    "parse_number",
    "parse_whole_number",
    "round_half_up",
    "score_visit",
    "to_fraction",
    "validate_answers",
    "visible_keys",
]
