"""Sign-in, password and account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

MIN_PASSWORD_LENGTH = 10


def _strip(value: str | None) -> str | None:
    """Phone keyboards often add a space after an autocompleted address."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[DataRequired(), Email()])
    submit = SubmitField(_l("Send reset link"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Save password"))


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), choices=[])
    submit = SubmitField(_l("Save"))


class LanguageForm(FlaskForm):
    """The language switch in the page footer; works signed in or out."""

    locale = SelectField(_l("Language"), choices=[])
    submit = SubmitField(_l("Change"))
