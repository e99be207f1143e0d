"""Forms of the follow-up pages: a corrective action's steps and the decisions on an
appeal. The templates draw their own fields (several forms share one page, each
with its own ids); these classes read and check what comes back. Length limits and
required notes are the services' rules, so a refusal names the field it concerns
in the same words wherever it comes from."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms 3.2 lacks it
from wtforms.validators import InputRequired, NumberRange

MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger id would make the driver fail


class ActionNoteForm(FlaskForm):
    """Resolve, verify and reopen: a note (which the service may require)."""

    note = TextAreaField(_l("Note"))


class ActionOwnerForm(FlaskForm):
    owner = IntegerField(_l("Owner"), validators=[InputRequired(), NumberRange(1, MAX_ID)])


class AppealForm(FlaskForm):
    """Filing an appeal: the reason (the photos are read as files by the view)."""

    reason = TextAreaField(_l("Why is the finding wrong?"))


class AppealDecisionForm(FlaskForm):
    """Uphold or reject, with a note; the corrected answer's own fields come from the
    checklist form builder, as on the review screen."""

    decision = SelectField(
        choices=[SelectChoice("uphold", _l("Uphold")), SelectChoice("reject", _l("Reject"))]
    )
    note = TextAreaField(_l("Note"))
