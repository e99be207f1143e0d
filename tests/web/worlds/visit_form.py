"""The visit form world, shared by the visit form, submission, query count, integrity and
hostile input tests: a shopper's visit of a wave on the retail starter checklist (or
another starter), and the helpers that fill its form and post it."""

import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import scoring
from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import ACCEPTED, Visit
from auditapp.services.checklists import versions as checklists
from tests.conftest import csrf_token
from tests.web.access.my_visits import make_visit, make_wave

# 02:00 UTC is 10:00 in Shanghai (the store's zone) and 11:00 in Tokyo.
START = (utcnow() + timedelta(days=2)).replace(hour=2, minute=0, second=0, microsecond=0)


def build_world(make_client, make_region, make_store, make_shopper, starter="retail_visit"):
    client = make_client("FORM", name="Form brand")
    region = make_region(client, "R1")
    store = make_store(client, region, "S1", name="Bund Store", address="1 Bund Road")
    ann = make_shopper("ann.form@example.com", name="Ann")
    bob = make_shopper("bob.form@example.com", name="Bob")
    checklist = checklists.copy_starter(starter, client, None)
    version = checklists.publish(checklist.versions[0], None)
    wave = make_wave(
        client, [store], fee=Decimal("80"), expense_cap=Decimal("30"),
        scenario="Ask for a winter coat.", purchase="One pair of socks",
    )  # fmt: skip
    wave.checklist_version = version
    db.session.flush()
    visit = make_visit(wave, store, START, shopper=ann, status=ACCEPTED)
    db.session.commit()  # a refused request's rollback must not undo the set-up
    return SimpleNamespace(
        client=client, store=store, ann=ann, bob=bob, wave=wave, version=version, visit=visit
    )


def post(client, url, headers=None, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data}, headers=headers)


def reload(visit: Visit) -> Visit:
    db.session.expire_all()
    found = db.session.get(Visit, visit.id)
    assert found is not None
    return found


def url(visit: Visit, action: str) -> str:
    return f"/my/visits/{visit.id}/{action}"


def valid_fields() -> dict[str, Any]:
    """Every required visible question of the retail starter answered (photo apart)."""
    return {
        "q_visit_date": "2031-05-04",
        "q_visit_time": "10:05",
        "q_greet_s": "12",
        "q_greet_smile": "yes",
        "q_spoken_to_15": "yes",
        "q_open_questions": "yes",
        "q_listening": "partly",
        "q_summarised": "no",
        "q_fit": "exact",
        "q_knowledge": "4",
        "q_objection": "na",
        "q_queue_min": "3.5",
        "q_price_correct": "yes",
        "q_receipt": "yes",
        "q_thanked": "yes",
        "q_walked_out": "no",
        "q_clean": "yes",
        "q_display": "gaps",
        "q_price_tags": "yes",
        "q_promo": "yes",
        "q_signage": "no",
        "q_nps": "8",
        "q_comments": "Busy Saturday.",
        "comment_greeting": "Greeted by Li at the door.",
        "comment_overall": "A good visit overall.",
    }


def cli_score(version, answers: dict[str, Any], tmp_path) -> dict[str, Any]:
    """What `python -m scoring` says about these answers, run as its own process."""
    checklist_path, answers_path = tmp_path / "checklist.json", tmp_path / "answers.json"
    checklist_path.write_text(scoring.dumps_exact(checklists.version_document(version)))
    answers_path.write_text(scoring.dumps_exact(answers))
    done = subprocess.run(
        [sys.executable, "-m", "scoring", str(checklist_path), str(answers_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout, parse_float=Decimal)  # type: ignore[no-any-return]
