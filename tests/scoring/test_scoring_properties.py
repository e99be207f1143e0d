"""Properties that must hold for any checklist and any answers (hypothesis)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import (
    Checklist,
    Condition,
    GradeBand,
    Option,
    PointBand,
    Question,
    ScoringRules,
    Section,
    VisitResult,
    dump_checklist,
    load_checklist,
    score_visit,
)
from scoring.model import QuestionType, Tag, Translations

MODEST = settings(max_examples=100, deadline=None)
# Cheap strategies (sampled names, tenths as Fractions) keep generation fast.
NAMES = st.sampled_from(["Greeting", "Store", "a", "問題", "x_y"])
WEIGHTS = st.integers(min_value=0, max_value=200).map(lambda n: Fraction(n, 10))
POSITIVE = st.integers(min_value=1, max_value=500).map(lambda n: Fraction(n, 10))
POINTS = st.integers(min_value=-2, max_value=5).map(Fraction)
TYPES: list[QuestionType] = ["yes_no", "choice", "multi", "scale", "number", "nps", "text", "date"]


def translations(fields: list[str]) -> st.SearchStrategy[Any]:
    """No translations, or one language translating the first or every field."""
    return st.sampled_from(
        [
            (),
            (("zh", ((fields[0], "中文"),)),),
            (("fr", tuple((f, "français") for f in fields)), ("zh", ())),
        ]
    )


@st.composite
def options(draw: st.DrawFn, kind: str) -> tuple[Option, ...]:
    if kind == "yes_no":
        if not draw(st.booleans()):
            return ()
        values = ["yes", "no"]
    else:
        values = [f"o{i}" for i in range(draw(st.integers(1, 4)))]
    return tuple(
        Option(v, draw(NAMES), draw(POINTS), draw(translations(["label"]))) for v in values
    )


@st.composite
def number_bands(draw: st.DrawFn) -> tuple[PointBand, ...]:
    maxes = sorted(draw(st.sets(st.integers(0, 300), max_size=3)))
    return tuple(PointBand(Fraction(m), draw(POINTS)) for m in maxes) + (
        PointBand(None, draw(POINTS)),
    )


def condition_on(target: Question) -> st.SearchStrategy[Condition]:
    """A condition that can hold on ``target``'s answers."""
    kind = target.type
    if kind in ("choice", "multi"):
        values = [o.value for o in target.options]
    elif kind == "yes_no":
        values = ["yes", "no"]
    elif kind in ("scale", "nps"):
        low = target.min if kind == "scale" else Fraction(0)
        high = target.max if kind == "scale" else Fraction(10)
        assert low is not None and high is not None
        number = st.integers(int(low), int(high)).map(Fraction)
        ops = st.sampled_from(["equals", "gte", "lte"])
        return st.builds(Condition, st.just(target.key), ops, number)
    else:
        return st.builds(Condition, st.just(target.key), st.just("gte"), POINTS)
    single = st.builds(Condition, st.just(target.key), st.just("equals"), st.sampled_from(values))
    several = st.lists(st.sampled_from(values), min_size=1, unique=True).map(tuple)
    return single | st.builds(Condition, st.just(target.key), st.just("in"), several)


# (text, guidance, tag, translations) of a question: only the round trip looks at them.
DECORATION_CHOICES: list[tuple[str, str | None, Tag | None, Translations]] = [
    ("Greeted?", None, None, ()),
    ("問題", "Look closely", "compliance", (("en", (("text", "Question"),)),)),
    ("x", "", "effectiveness", (("fr", (("text", "Q"), ("guidance", "G"))), ("zh", ()))),
]
DECORATIONS = st.sampled_from(DECORATION_CHOICES)


@st.composite
def question(draw: st.DrawFn, key: str, earlier: list[Question]) -> Question:
    kind = draw(st.sampled_from(TYPES))
    low = draw(st.integers(0, 3))
    targets = [q for q in earlier if q.type != "date"]
    show_if = None
    if targets and draw(st.integers(0, 3)) == 0:
        show_if = draw(condition_on(draw(st.sampled_from(targets))))
    # One integer for all flags keeps generation cheap: critical 1 in 4, bonus 1 in 8.
    flags = draw(st.integers(0, 127))
    text, guidance, tag, translated = draw(DECORATIONS)
    return Question(
        key=key,
        text=text,
        type=kind,
        weight=draw(WEIGHTS),
        na_allowed=bool(flags & 1),
        required=bool(flags & 2),
        critical=flags >> 2 & 3 == 0,
        bonus=flags >> 4 == 0,
        guidance=guidance,
        options=draw(options(kind)) if kind in ("yes_no", "choice", "multi") else (),
        bands=draw(number_bands()) if kind == "number" else (),
        min=Fraction(low) if kind == "scale" else None,
        max=Fraction(low + draw(st.integers(1, 5))) if kind == "scale" else None,
        show_if=show_if,
        tag=tag,
        translations=translated,
    )


@st.composite
def checklists(draw: st.DrawFn) -> Checklist:
    """Random checklists; conditions only look back within their own section."""
    sections = []
    for s in range(draw(st.integers(1, 3))):
        questions: list[Question] = []
        for i in range(draw(st.integers(0, 4))):
            questions.append(draw(question(f"s{s}q{i}", questions)))
        sections.append(
            Section(
                key=f"s{s}",
                title=draw(NAMES),
                weight=draw(st.none() | WEIGHTS),
                pass_mark=draw(st.none() | st.integers(0, 100).map(Fraction)),
                questions=tuple(questions),
                translations=draw(translations(["title"])),
            )
        )
    bands = st.lists(st.builds(GradeBand, st.integers(0, 100).map(Fraction), NAMES), max_size=3)
    rules = ScoringRules(
        method=draw(st.sampled_from(["pooled", "weighted_sections"])),
        pass_mark=draw(st.none() | st.integers(0, 100).map(Fraction)),
        decimals=draw(st.integers(0, 3)),
        unanswered=draw(st.sampled_from(["exclude", "zero"])),
        critical_failure=draw(st.sampled_from(["zero_visit", "zero_section", "flag"])),
        cap_at_100=draw(st.booleans()),
        bands=tuple(draw(bands)),
    )
    return Checklist(draw(NAMES), draw(st.sampled_from(["en", "zh"])), rules, tuple(sections))


def answer(q: Question) -> st.SearchStrategy[Any]:
    values = [o.value for o in q.options]
    domain: dict[str, st.SearchStrategy[Any]] = {
        "yes_no": st.sampled_from(["yes", "no"]),
        "choice": st.sampled_from(values or ["-"]),
        "multi": st.lists(st.sampled_from(values or ["-"]), unique=True),
        "scale": st.integers(int(q.min or 0), int(q.max or 0)),
        "number": st.integers(-100, 4000).map(lambda n: Decimal(n).scaleb(-1)),
        "nps": st.integers(0, 10),
        "text": st.sampled_from(["fine", "slow"]),
        "date": st.just("2024-05-01"),
    }
    choices = st.none() | domain[q.type]
    return choices | st.just("na") if q.na_allowed else choices


@st.composite
def visits(draw: st.DrawFn) -> tuple[Checklist, dict[str, Any]]:
    checklist = draw(checklists())
    answers = {q.key: draw(answer(q)) for q in checklist.questions()}
    return checklist, {k: v for k, v in answers.items() if v is not None}


def outcome(result: VisitResult) -> tuple[Any, ...]:
    sections = sorted((s.key, s.score, s.passed) for s in result.sections)
    return result.score, result.result, result.grade, sections


@MODEST
@given(visits(), st.data())
def test_an_na_answer_to_a_new_question_never_changes_the_score(
    visit: tuple[Checklist, dict[str, Any]], data: st.DataObject
) -> None:
    checklist, answers = visit
    index = data.draw(st.integers(0, len(checklist.sections) - 1))
    new = dataclasses.replace(data.draw(question("new", [])), na_allowed=True, show_if=None)
    sections = list(checklist.sections)
    target = sections[index]
    sections[index] = dataclasses.replace(target, questions=(*target.questions, new))
    extended = dataclasses.replace(checklist, sections=tuple(sections))

    assert outcome(score_visit(extended, {**answers, "new": "na"})) == outcome(
        score_visit(checklist, answers)
    )


@MODEST
@given(visits(), POSITIVE)
def test_scaling_every_question_weight_never_changes_the_score(
    visit: tuple[Checklist, dict[str, Any]], factor: Fraction
) -> None:
    checklist, answers = visit
    scaled = dataclasses.replace(
        checklist,
        sections=tuple(
            dataclasses.replace(
                s,
                questions=tuple(
                    dataclasses.replace(q, weight=q.weight * factor) for q in s.questions
                ),
            )
            for s in checklist.sections
        ),
    )

    assert outcome(score_visit(scaled, answers)) == outcome(score_visit(checklist, answers))


@MODEST
@given(visits(), POSITIVE)
def test_scaling_every_section_weight_never_changes_the_score(
    visit: tuple[Checklist, dict[str, Any]], factor: Fraction
) -> None:
    checklist, answers = visit
    scaled = dataclasses.replace(
        checklist,
        sections=tuple(
            dataclasses.replace(s, weight=s.effective_weight * factor) for s in checklist.sections
        ),
    )

    assert outcome(score_visit(scaled, answers)) == outcome(score_visit(checklist, answers))


@MODEST
@given(visits(), st.randoms(use_true_random=False))
def test_reordering_sections_never_changes_the_score(
    visit: tuple[Checklist, dict[str, Any]], random: Any
) -> None:
    checklist, answers = visit
    sections = list(checklist.sections)
    random.shuffle(sections)
    reordered = dataclasses.replace(checklist, sections=tuple(sections))

    assert outcome(score_visit(reordered, answers)) == outcome(score_visit(checklist, answers))


@MODEST
@given(visits())
def test_capped_scores_stay_between_0_and_100(visit: tuple[Checklist, dict[str, Any]]) -> None:
    checklist, answers = visit
    capped = dataclasses.replace(
        checklist, scoring=dataclasses.replace(checklist.scoring, cap_at_100=True)
    )

    result = score_visit(capped, answers)

    scores = [result.score, *(s.score for s in result.sections)]
    assert all(0 <= score <= 100 for score in scores if score is not None)


@MODEST
@given(checklists())
def test_dump_then_load_gives_back_the_same_checklist(checklist: Checklist) -> None:
    dumped = dump_checklist(checklist)

    assert load_checklist(dumped) == checklist
    assert dump_checklist(load_checklist(dumped)) == dumped
