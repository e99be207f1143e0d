"""Who finds a checklist: admins; coordinators and reviewers of its client; nobody else."""

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from auditapp.extensions import db
from auditapp.models import Checklist
from auditapp.permissions import checklist_scope, get_checklist_or_404, get_version_or_404
from auditapp.services.checklists import versions as svc


@pytest.fixture
def cast(make_client, make_region, make_user):
    acme, other = make_client("ACME"), make_client("OTHER")
    region = make_region(acme, "N")
    people = {
        "admin": make_user("admin@example.com", "admin"),
        "coordinator": make_user("coord@example.com", "coordinator", clients=[acme]),
        "reviewer": make_user("rev@example.com", "reviewer", clients=[acme]),
        "peer": make_user("peer@example.com", "coordinator", clients=[other]),
        "shopper": make_user("shop@example.com", "shopper"),
        "manager": make_user("rm@example.com", "regional_manager", client=acme, regions=[region]),
    }
    checklist = svc.create_checklist(acme, "Audit", people["admin"])
    db.session.flush()
    return people, checklist


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", True),
        ("coordinator", True),
        ("reviewer", True),
        ("peer", False),
        ("shopper", False),
        ("manager", False),
    ],
)
def test_checklist_and_version_lookup_by_role(cast, who, sees):
    people, checklist = cast
    user = people[who]
    version = svc.draft_of(checklist)

    listed = db.session.scalars(select(Checklist).where(checklist_scope(user))).all()
    assert (checklist in listed) is sees
    if sees:
        assert get_checklist_or_404(user, checklist.id) is checklist
        assert get_version_or_404(user, version.id) is version
    else:
        with pytest.raises(NotFound):
            get_checklist_or_404(user, checklist.id)
        with pytest.raises(NotFound):
            get_version_or_404(user, version.id)


def test_unknown_ids_are_not_found(cast):
    people, _checklist = cast
    with pytest.raises(NotFound):
        get_checklist_or_404(people["admin"], 987654)
    with pytest.raises(NotFound):
        get_version_or_404(people["admin"], 987654)
