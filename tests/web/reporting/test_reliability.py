"""Question reliability: which visits pair up, how answers become values, alpha and n
per question, the verdict, who sees what, the checklist page and the draft's lint.

The scene (client X, one checklist; version 1 and 2 published, a draft of 3):

    five pairs of approved visits by two different shoppers, same wave, store, slot and
    window (four in a wave on version 1, one in a wave on version 2):
        smile:  yes/yes, yes/yes, no/no, no/no, yes/no   -> alpha 0.64 (by hand below)
        greet:  yes/yes, yes/yes, yes/yes, no/no, no/no  -> alpha 1
        rating: 4/4, 2/2, 5/4, 1/1, N/A/3                -> 4 pairable units
    noise that must not pair: the same shopper twice at one store, a different slot,
    the same slot on different days, a visit still submitted, and client Y's visits of
    its own checklist.

Hand computation for smile (nominal): each unit adds two ordered pairs of weight
1/(2-1). Coincidences: yes-yes 4, no-no 4, yes-no 1, no-yes 1; n_yes = n_no = 5,
n = 10. alpha = 1 - (n-1) * (1+1) / (2 * 5 * 5) = 1 - 18/50 = 0.64.
"""

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, utcnow
from auditapp.models.answers import VisitAnswer
from auditapp.models.waves import APPROVED, SUBMITTED, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.reporting.reliability import (
    MIN_PAIRED_UNITS,
    TOO_VAGUE_BELOW,
    QuestionReliability,
    question_reliability,
    reliability_for,
)
from tests.conftest import login, page_text
from tests.web.access.my_visits import make_visit
from tests.web.statuses import walk_to

DOCUMENT = {
    "title": "Store visit",
    "sections": [{"key": "s", "title": "Service", "questions": [
        {"key": "smile", "text": "Were you greeted with a smile?", "type": "yes_no"},
        {"key": "greet", "text": "Were you greeted?", "type": "yes_no"},
        {"key": "rating", "text": "Rate the service", "type": "scale", "min": 1, "max": 5,
         "na_allowed": True},
        {"key": "notes", "text": "Anything else?", "type": "text"},
    ]}],
}  # fmt: skip
HAND_ALPHA_SMILE = 1 - 18 / 50


def _wave(client, version, name):
    today = utcnow().date()
    wave = Wave(
        client=client, checklist_version=version, name=name, status="open",
        starts_on=today - timedelta(days=40), ends_on=today + timedelta(days=40),
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return wave


@pytest.fixture
def scene(make_client, make_region, make_store, make_user, make_shopper):
    x, y = make_client("X", name="Client X"), make_client("Y", name="Client Y")
    rx, ry = make_region(x, "RX"), make_region(y, "RY")
    stores = [make_store(x, rx, f"S{i}") for i in range(7)]
    y1 = make_store(y, ry, "Y1")
    a, b, c = (make_shopper(f"rel.{n}@example.com") for n in "abc")
    admin = make_user("rel.admin@example.com", "admin")
    coord_x = make_user("rel.cx@example.com", "coordinator", clients=[x])
    coord_y = make_user("rel.cy@example.com", "coordinator", clients=[y])
    checklist = checklists.create_checklist(x, "", coord_x, DOCUMENT)
    db.session.flush()
    v1 = checklists.publish(checklists.draft_of(checklist), coord_x)
    db.session.flush()
    v2 = checklists.publish(checklists.start_new_version(checklist, coord_x), coord_x)
    db.session.flush()
    other = checklists.create_checklist(y, "", coord_y, DOCUMENT)
    db.session.flush()
    y_version = checklists.publish(checklists.draft_of(other), coord_y)
    db.session.flush()
    w1, w2 = _wave(x, v1, "W1"), _wave(x, v2, "W2")
    wy = _wave(y, y_version, "WY")
    clock = iter(range(1, 1000))
    # One "now" for the whole scene: read twice, a second could pass between two
    # adjacent hour-long windows of one shopper and make them overlap.
    now = utcnow().replace(microsecond=0)

    def visit(wave, store, shopper, answers, status=APPROVED, slot="midday", at=None):
        start = at or now - timedelta(days=20, hours=next(clock))
        v = walk_to(make_visit(wave, store, start, shopper=shopper), status)
        v.slot = slot
        for key, value in answers.items():
            question = db.session.scalars(
                select(ChecklistQuestion).where(
                    ChecklistQuestion.version_id == wave.checklist_version_id,
                    ChecklistQuestion.key == key,
                )
            ).one()
            db.session.add(VisitAnswer(visit_id=v.id, question_id=question.id, value=value))
        db.session.flush()
        return v

    pairs = [  # (wave, store, smile, greet, rating) for shopper a, then shopper b
        (w1, stores[0], ("yes", "yes"), ("yes", "yes"), (4, 4)),
        (w1, stores[1], ("yes", "yes"), ("yes", "yes"), (2, 2)),
        (w1, stores[2], ("no", "no"), ("yes", "yes"), (5, 4)),
        (w1, stores[3], ("no", "no"), ("no", "no"), (1, 1)),
        (w2, stores[0], ("yes", "no"), ("no", "no"), ("na", 3)),
    ]
    windows = []
    for n, (wave, store, smile, greet, rating) in enumerate(pairs):
        # Both visits of a pair share their window; a shopper's windows two hours apart.
        window = now - timedelta(days=30, hours=2 * n)
        windows.append(window)
        for i, shopper in enumerate((a, b)):
            answers = {"smile": smile[i], "greet": greet[i], "rating": rating[i], "notes": "x"}
            visit(wave, store, shopper, answers, at=window)
    # Noise: none of these makes a pair.
    visit(w1, stores[4], a, {"smile": "yes"})
    visit(w1, stores[4], a, {"smile": "no"})  # the same shopper twice
    visit(w1, stores[5], a, {"smile": "yes"}, slot="opening")
    visit(w1, stores[5], b, {"smile": "no"}, slot="peak")  # different slots
    visit(w1, stores[6], a, {"smile": "yes"})
    visit(w1, stores[6], b, {"smile": "no"})  # the same slot on different days
    visit(w2, stores[1], a, {"smile": "yes"})
    visit(w2, stores[1], c, {"smile": "no"}, status=SUBMITTED)  # not approved
    visit(wy, y1, a, {"smile": "yes"})
    visit(wy, y1, b, {"smile": "no"})  # client Y's own checklist
    db.session.commit()
    return SimpleNamespace(
        x=x, y=y, checklist=checklist, admin=admin, coord_x=coord_x, coord_y=coord_y,
        stores=stores, a=a, c=c, w2=w2, v2=v2, visit=visit, windows=windows,
    )  # fmt: skip


def _by_key(found):
    return {r.key: r for r in found}


def test_alpha_and_n_per_question_match_the_hand_computation(scene):
    found = _by_key(reliability_for(scene.checklist, None))
    assert list(found) == ["smile", "greet", "rating"]  # text questions are not rated
    assert found["smile"].alpha == pytest.approx(HAND_ALPHA_SMILE)
    assert (found["smile"].n, found["smile"].level) == (5, "nominal")
    assert found["greet"].alpha == pytest.approx(1.0)
    assert found["rating"].level == "ordinal"
    assert found["rating"].n == 4  # the N/A answer is missing: its pair is not pairable


def test_verdicts_use_the_threshold_and_the_minimum_n(scene):
    found = _by_key(reliability_for(scene.checklist, None))
    assert HAND_ALPHA_SMILE < TOO_VAGUE_BELOW and found["smile"].n >= MIN_PAIRED_UNITS
    assert found["smile"].verdict == "too_vague"
    assert found["greet"].verdict == "reliable"
    assert found["rating"].verdict == "too_few"  # 4 < MIN_PAIRED_UNITS
    # Enough pairs that always gave the same answer: alpha is undefined, not "too few".
    same = QuestionReliability("k", "t", "nominal", None, MIN_PAIRED_UNITS)
    assert same.verdict == "no_variation"
    assert replace(same, n=MIN_PAIRED_UNITS - 1).verdict == "too_few"


def test_a_third_shopper_joining_a_pair_becomes_one_more_value_of_the_unit(scene):
    # W2/S0 was yes/no; c answers "no" in the same window: the unit is yes/no/no.
    scene.visit(scene.w2, scene.stores[0], scene.c, {"smile": "no"}, at=scene.windows[4])
    found = _by_key(reliability_for(scene.checklist, None))
    assert found["smile"].n == 5  # still five units
    # By hand: the three-value unit adds weight 1/2 to yes-no, no-yes twice each and to
    # no-no twice: o(yes,no) = o(no,yes) = 1, n_yes = 5, n_no = 6, n = 11.
    # alpha = 1 - (11 - 1) * 2 / (2 * 5 * 6) = 2/3.
    assert found["smile"].alpha == pytest.approx(2 / 3)


def test_only_the_visits_of_clients_the_user_may_see_count(scene):
    assert _by_key(reliability_for(scene.checklist, [scene.y.id]))["smile"].n == 0
    assert _by_key(question_reliability(scene.checklist, scene.coord_y))["smile"].n == 0
    assert _by_key(question_reliability(scene.checklist, scene.coord_x))["smile"].n == 5
    assert _by_key(question_reliability(scene.checklist, scene.admin))["smile"].n == 5


def test_the_checklist_page_lists_the_questions_too_vague_to_trust(client, scene):
    page = login(client, scene.coord_x).get(f"/checklists/{scene.checklist.id}")
    assert page.status_code == 200
    section = page.text.split('id="too-vague"')[1].split("</ul>")[0]
    assert 'data-key="smile"' in section and "α = 0.64, n = 5" in page_text(section)
    assert 'data-key="greet"' not in section
    table = page.text.split('id="reliability-all"')[1].split("</details>")[0]
    assert 'data-key="greet"' in table and 'data-key="rating"' in table
    assert "Not enough paired visits yet" in table


def test_without_pairs_the_page_says_not_enough_paired_visits(client, scene):
    other = checklists.create_checklist(scene.x, "", scene.coord_x, DOCUMENT)
    db.session.flush()
    checklists.publish(checklists.draft_of(other), scene.coord_x)
    db.session.commit()
    assert all(r.verdict == "too_few" for r in reliability_for(other, None))
    page = login(client, scene.admin).get(f"/checklists/{other.id}")
    assert 'id="no-pairs"' in page.text and 'id="too-vague"' not in page.text


def test_the_drafts_lint_warns_on_a_question_too_vague_before(client, scene):
    draft = checklists.start_new_version(scene.checklist, scene.coord_x)
    db.session.commit()
    page = login(client, scene.coord_x).get(f"/checklists/versions/{draft.id}")
    lint = page_text(page.text.split('id="lint"')[1].split("</aside>")[0])
    expected = (
        "Shoppers disagreed on this question in calibration visits (α = 0.64, n = 5):"
        " consider rewording"
    )
    assert lint.count(expected) == 1
    assert "sections[0].questions[0]" in lint  # on the smile question of the draft
    published = page_text(
        login(client, scene.coord_x).get(f"/checklists/versions/{scene.v2.id}").text
    )
    assert "Shoppers disagreed" not in published  # a published version has no lint to act on

    # Reworded in the draft, the question has yet to be tried: no more warning.
    smile = db.session.scalars(
        select(ChecklistQuestion).where(
            ChecklistQuestion.version_id == draft.id, ChecklistQuestion.key == "smile"
        )
    ).one()
    smile.text = "Did a member of staff smile at you within three metres of the door?"
    db.session.commit()
    page = login(client, scene.coord_x).get(f"/checklists/versions/{draft.id}")
    assert "Shoppers disagreed" not in page_text(page.text)
