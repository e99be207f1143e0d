"""A visit's own data: the shopper's form and answers, evidence, integrity checks,
scores (results) and calibration pairs.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .answers import (
    answer_fields,
    answer_text,
    check_answers,
    form_for,
    local_text,
    plain,
    stored_answers,
)
from .calibration import Leniency, client_ids_for, leniency_of
from .evidence import CheckedPhoto, EvidenceRejected, check_photo, evidence_path, process_photo
from .results import SUMMARY_FIGURES, record_results, set_score

__all__ = [
    "CheckedPhoto",
    "EvidenceRejected",
    "Leniency",
    "SUMMARY_FIGURES",
    "answer_fields",
    "answer_text",
    "check_answers",
    "check_photo",
    "client_ids_for",
    "evidence_path",
    "form_for",
    "leniency_of",
    "local_text",
    "plain",
    "process_photo",
    "record_results",
    "set_score",
    "stored_answers",
]
