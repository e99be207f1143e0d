"""The two-step import flow shared by stores and shoppers: upload and preview every
problem, then confirm. The previewed file travels back in the confirm form, so no
server state is kept between the steps. A refused file answers 400: a file that cannot
be read at all says why next to the upload field, row problems are listed above it."""

import base64
import binascii
from collections.abc import Callable

from flask import current_app, flash, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from forms.org import ConfirmImportForm, ImportForm

from ..services.org.imports import ImportReport
from .transaction import Outcome, add_error, transaction


def import_flow(
    run: Callable[[bytes, bool], ImportReport], title: str, columns: tuple[str, ...], done_url: str
) -> ResponseReturnValue:
    upload, confirm = ImportForm(), ConfirmImportForm()
    report, payload, saved = None, "", Outcome()
    if confirm.validate_on_submit() and confirm.payload.data:
        data = _decode(confirm.payload.data)
        if data is not None:
            with transaction() as saved:  # run() writes nothing for a file with problems
                report = run(data, True)
            if saved and report.ok:
                summary = _(
                    "Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
                    created=report.created,
                    updated=report.updated,
                    unchanged=report.unchanged,
                )
                flash(summary, "success")
                return redirect(done_url)
    elif upload.validate_on_submit():
        data = upload.file.data.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
            add_error(upload.file, _("The file is too large."))
        else:
            report = run(data, False)  # a preview: nothing written, nothing committed
            payload = base64.b64encode(data).decode() if report.ok else ""
    if report is not None and report.file_problem:
        add_error(upload.file, report.file_problem)  # next to the field
    refused = (report is not None and not report.ok) or bool(upload.file.errors)
    return render_template(
        "admin/import.html",
        upload=upload, confirm=confirm, report=report, payload=payload, title=title,
        columns=columns,
    ), 400 if refused else saved.status  # fmt: skip


def _decode(payload: str) -> bytes | None:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
