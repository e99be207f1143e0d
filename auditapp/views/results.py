"""Result exports (services/reporting/exports.py): a page of the waves in the user's
scope with their download links, and the download itself.

Rules decided here:

- Downloading needs the export permission and the wave in the user's scope; anything
  else (a shopper, no permission, another client's wave, an unknown shape or format)
  is 404, as if the file did not exist.
- The page is open to every role that sees results; without the export permission it
  says so instead of listing downloads.
- CSV is streamed row by row as it is read; XLSX cannot be sent before it is complete,
  so it is written (write-only, flat memory) to a temporary file that is sent and then
  removed.
- Building an XLSX takes about 12 µs a cell (openpyxl in pure Python), all before the
  first byte leaves, so a request for more than RESULT_XLSX_MAX_CELLS cells (default
  1,500,000: some 20 s) is sent back to the exports page with a note to take the CSV,
  which streams and opens in Excel as well. The command line has no such limit.
"""

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from reports.tabular import XLSX_MIME, csv_chunks, write_xlsx

from ..extensions import db
from ..models import ADMIN, COORDINATOR, REGIONAL_MANAGER, REVIEWER, SHOPPER, STORE_MANAGER
from ..permissions import can_export, roles_required
from ..services.reporting import exports as report_exports
from .params import id_arg, page_arg

bp = Blueprint("results", __name__, url_prefix="/results")
PAGE_ROLES = (ADMIN, COORDINATOR, REVIEWER, REGIONAL_MANAGER, STORE_MANAGER)
XLSX_MAX_CELLS = 1_500_000


@bp.route("/exports")
@roles_required(*PAGE_ROLES)
def exports() -> ResponseReturnValue:
    allowed = can_export(current_user)
    page = counts = None
    if allowed:
        page = db.paginate(
            report_exports.exportable_waves(current_user),
            page=page_arg(),
            per_page=25,
            error_out=False,
        )
        counts = report_exports.approved_counts(current_user, [w.id for w in page.items])
    return render_template(
        "results/exports.html",
        allowed=allowed,
        page=page,
        counts=counts or {},
        with_shopper=report_exports.shows_shopper(current_user),
    )


@bp.route("/export")
@login_required
def export() -> ResponseReturnValue:
    args = request.args
    shape, fmt = args.get("shape", "wide"), args.get("format", "csv")
    wave_id = id_arg("wave")
    if (
        current_user.role == SHOPPER
        or not can_export(current_user)
        or shape not in report_exports.SHAPES
        or fmt not in report_exports.FORMATS
        or wave_id is None
    ):
        abort(404)
    user = current_user._get_current_object()
    wave = report_exports.get_wave(user, wave_id)
    if wave is None:
        abort(404)
    if fmt == "xlsx":
        limit = int(current_app.config.get("RESULT_XLSX_MAX_CELLS", XLSX_MAX_CELLS))
        cells = report_exports.estimated_cells(wave, user, shape)
        if cells > limit:
            flash(
                _(
                    "%(wave)s is too large to build as XLSX here (about %(cells)s cells; "
                    "the limit is %(limit)s). Download the CSV instead: it opens in Excel too.",
                    wave=wave.name,
                    cells=format_number(cells),
                    limit=format_number(limit),
                ),
                "warning",
            )
            return redirect(url_for("results.exports"))
    language = report_exports.reader_language(get_locale())
    table = report_exports.build_export(wave, user, shape, language)
    if fmt == "csv":
        name = f"{table.filename}.csv"
        return Response(
            stream_with_context(csv_chunks(table.header, table.rows)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    # Removed when closed, which send_file does once the response is sent.
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(handle, table.header, table.rows, table.title)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    # An attachment: views/downloads.py makes it private, no-store.
    return send_file(
        handle,
        mimetype=XLSX_MIME,
        as_attachment=True,
        download_name=f"{table.filename}.xlsx",
        max_age=0,
    )
