"""Forms of the review screens: the queue's filters (a GET form, no CSRF token), and
the reviewer's POST forms (edit reason, return note, actions, bulk approve).

The per-question fields of an edit come from the checklist form builder, so a
reviewer types an answer exactly as the shopper did; the per-question notes of a
return are plain ``note_<question key>`` fields read by the view. Choices that
depend on the signed-in user are filled by the view.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional

MAX_REASON_CHARS = 2000
MAX_NOTE_CHARS = 5000
ANY = ""


# The largest row id on any database the app runs on (PostgreSQL's integer); a larger
# number in the query string would make the database driver fail.
MAX_ID = 2**31 - 1


def _id_or_none(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class QueueFilterForm(Form):
    """What the queue shows (query string). Unknown or foreign ids are the view's
    business: it answers 404 for a client, wave or region outside the user's scope."""

    client = SelectField(_l("Client"), coerce=_id_or_none, choices=[], validate_choice=False)
    wave = SelectField(_l("Wave"), coerce=_id_or_none, choices=[], validate_choice=False)
    region = SelectField(_l("Region"), coerce=_id_or_none, choices=[], validate_choice=False)
    shopper = SelectField(_l("Shopper"), coerce=_id_or_none, choices=[], validate_choice=False)
    flags = SelectField(_l("Integrity flags"), choices=[], validate_choice=False)
    min_age = IntegerField(
        _l("Waiting at least (hours)"),
        validators=[Optional(), NumberRange(0, 24 * 365)],
        render_kw={"inputmode": "numeric", "min": "0"},
    )


class EditForm(FlaskForm):
    """The reason of one edit; the answer's own fields are the built form's."""

    question = HiddenField()
    reason = TextAreaField(_l("Reason for the change"))


class ReturnForm(FlaskForm):
    note = TextAreaField(
        _l("What should the shopper change?"),
        render_kw={"rows": 4, "maxlength": str(MAX_NOTE_CHARS)},
        description=_l("The shopper sees this note with the visit."),
    )


class ActionForm(FlaskForm):
    """Start, release and approve: a button and the CSRF token."""


class BulkApproveForm(FlaskForm):
    """The ticked rows come as repeated ``visit_id`` fields; ``next`` returns to the
    queue as it was filtered."""

    next = HiddenField()
