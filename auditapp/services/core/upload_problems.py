"""What to tell a person whose uploaded workbook reports/workbooks.py refused; shared by
the store and shopper imports and the checklist import."""

from flask_babel import gettext as _

from reports import workbooks
from reports.workbooks import WorkbookRefused


def workbook_problem(error: WorkbookRefused) -> str:
    if error.reason == workbooks.FORMULA:
        return _(
            "Cell %(cell)s holds a formula. Formulas are not imported: type the value itself"
            " (or paste the cells as values) and upload the file again.",
            cell=error.cell,
        )
    if error.reason == workbooks.UNSAFE_XML:
        return _(
            "The workbook contains XML that is not accepted (a DTD, entities or an unusual"
            " text encoding, in %(part)s). Save it again from your spreadsheet program.",
            part=error.cell,
        )
    if error.reason == workbooks.TOO_BIG:
        return _(
            "The workbook is too large: it may unpack to at most %(mb)d MB.",
            mb=workbooks.MAX_UNPACKED_BYTES // 2**20,
        )
    if error.reason == workbooks.TOO_MANY_ROWS:
        return _(
            "The sheet has more than %(n)d rows (%(cell)s); split it into smaller files.",
            n=workbooks.MAX_ROWS,
            cell=error.cell,
        )
    if error.reason == workbooks.TOO_MANY_COLUMNS:
        return _(
            "The sheet has more than %(n)d columns (%(cell)s).",
            n=workbooks.MAX_COLUMNS,
            cell=error.cell,
        )
    return _("The file is not a readable XLSX workbook.")
