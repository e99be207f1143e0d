"""Evidence files: the shopper's phone uploads photos, receipts and recordings one
file at a time (each retried on its own, so a failed photo never holds up the
answers); the shopper and the agency staff of the visit's client view them, and the
client's managers the photos of a question marked client-visible once the visit is in
their published results (permissions.may_see_evidence).

Uploads answer in JSON, for the form's script: 201 with the new file, 200 with the
same body when a retry finds the file already stored, or {"error": message} with a
4xx status. A visit or file outside the user's reach is not found (404).
"""

import io

from flask import Blueprint, abort, current_app, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..extensions import db
from ..models import (
    ADMIN,
    AGENCY_ROLES,
    CLIENT_ROLES,
    SHOPPER,
    ChecklistQuestion,
    Evidence,
    Store,
    User,
)
from ..models.waves import APPROVED, Visit, Wave
from ..permissions import may_see_evidence, roles_required, store_scope
from ..services.core.visibility import published_waves
from ..services.visits import evidence as evidence_service
from .transaction import transaction

bp = Blueprint("evidence", __name__)

VIEWERS = (ADMIN, *AGENCY_ROLES, SHOPPER, *CLIENT_ROLES)


@bp.errorhandler(HTTPException)
def _json_error(error: HTTPException) -> ResponseReturnValue:
    """The upload script reads JSON, whatever went wrong."""
    code = error.code or 500
    if isinstance(error, CSRFError):
        message = _("Your session has expired. Reload the page and try again.")
    elif isinstance(error, RequestEntityTooLarge):
        message = evidence_service.too_large_message()
    elif code == 404:
        message = _("We could not find that page.")
    else:
        message = _("The request could not be understood. Please go back and try again.")
    return jsonify(error=message), code


@bp.route("/my/visits/<int:visit_id>/evidence", methods=["POST"])
@roles_required(SHOPPER)
def upload(visit_id: int) -> ResponseReturnValue:
    visit = _own_visit_or_404(visit_id)
    form = request.form
    client_upload_id = form.get("client_upload_id", "").strip()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return jsonify(error=_("Choose a photo or file to upload.")), 400
    with transaction(show=False) as saved:
        # One byte past the limit is enough to know the file is too large.
        data = upload.stream.read(evidence_service.max_bytes() + 1)
        before = evidence_service.find_upload(visit, client_upload_id)
        evidence = evidence_service.store_upload(
            visit,
            current_user,
            data,
            upload.filename,
            client_upload_id,
            form.get("kind", "photo"),
            form.get("question_key") or None,
        )
    if not saved:
        return jsonify(error=saved.message), saved.status
    return jsonify(_describe(evidence)), 200 if before is not None else 201


@bp.route("/evidence/<int:evidence_id>")
@roles_required(*VIEWERS)
def file(evidence_id: int) -> ResponseReturnValue:
    return _serve(_evidence_or_404(current_user, evidence_id), thumb=False)


@bp.route("/evidence/<int:evidence_id>/thumb")
@roles_required(*VIEWERS)
def thumb(evidence_id: int) -> ResponseReturnValue:
    return _serve(_evidence_or_404(current_user, evidence_id), thumb=True)


def _describe(evidence: Evidence) -> dict[str, object]:
    return {
        "id": evidence.id,
        "url": url_for(".file", evidence_id=evidence.id),
        "thumb_url": url_for(".thumb", evidence_id=evidence.id) if evidence.thumb_name else None,
        "sha256": evidence.sha256,
    }


def _own_visit_or_404(visit_id: int) -> Visit:
    shopper = current_user.shopper
    if shopper is None:
        abort(404)
    visit = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store), selectinload(Visit.wave))
        .where(Visit.id == visit_id, Visit.shopper_id == shopper.id)
    ).first()
    if visit is None:
        abort(404)
    return visit


def _evidence_or_404(user: User, evidence_id: int) -> Evidence:
    """The visit's own shopper, and agency staff (admins, coordinators, reviewers)
    whose clients include the visit's store. The client's managers only reach the
    photos of approved visits of their stores in published results, and of those
    only what may_see_evidence allows them (client-visible photo questions)."""
    query = (
        select(Evidence)
        .join(Visit, Evidence.visit_id == Visit.id)
        .join(Store, Visit.store_id == Store.id)
        .options(contains_eager(Evidence.visit))
        .where(Evidence.id == evidence_id)
    )
    if user.role == SHOPPER:
        if user.shopper is None:
            abort(404)
        query = query.where(Visit.shopper_id == user.shopper.id)
    elif user.role in (ADMIN, *AGENCY_ROLES):
        query = query.where(store_scope(user))
    elif user.role in CLIENT_ROLES:
        query = query.join(Wave, Visit.wave_id == Wave.id).where(
            store_scope(user), Visit.status == APPROVED, published_waves(user)
        )
    else:
        abort(404)
    found = db.session.scalars(query).first()
    if found is None or not may_see_evidence(user, found.visit, _question_of(found)):
        abort(404)
    return found


def _question_of(evidence: Evidence) -> ChecklistQuestion | None:
    """The photo question a photo answers; None for any other file."""
    if evidence.kind != "photo" or not evidence.question_key:
        return None
    return db.session.scalars(
        select(ChecklistQuestion)
        .join(Visit, Visit.checklist_version_id == ChecklistQuestion.version_id)
        .where(Visit.id == evidence.visit_id, ChecklistQuestion.key == evidence.question_key)
    ).first()


def _serve(evidence: Evidence, thumb: bool) -> ResponseReturnValue:
    path = evidence_service.evidence_path(evidence, thumb=thumb)
    if path is None or not path.is_file():
        if path is not None:
            current_app.logger.warning("evidence %s: file %s is missing", evidence.id, path)
        abort(404)
    # Read whole (a stored photo is a few MB, a recording at most EVIDENCE_MAX_BYTES), so
    # no file handle outlives the request whoever forgets to close the response.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=evidence_service.served_type(evidence) if not thumb else "image/jpeg",
        conditional=True,  # Range requests: phones seek in recordings
        etag=path.name,  # stored names are never reused
        last_modified=evidence.created_at,
    )
    # The names never change, but who may see a file can: private, and not for long.
    response.headers["Cache-Control"] = "private, max-age=600"
    response.headers["Content-Disposition"] = "inline"
    return response
