"""Forms of the payment pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

REFERENCE_MAX = 200  # the bank reference kept on a paid run (services/pay checks it too)


class MarkPaidForm(FlaskForm):
    reference = StringField(
        _l("Bank reference (optional)"),
        validators=[Length(max=REFERENCE_MAX)],
        description=_l("The bank's batch or transfer number, to find this payment again."),
    )
