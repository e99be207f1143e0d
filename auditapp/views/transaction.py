"""One transaction per request: the only place a view commits.

A view that changes something runs the service calls inside ``transaction()``::

    with transaction(form.code) as saved:
        client = org.save_client(None, form.data)
    if saved:
        flash(...)
        return redirect(...)
    return render_template(..., form=form), saved.status

On success the block commits. A ``DomainError`` (a rule the user broke) rolls the
transaction back and becomes a message: beside the field given, else beside the
form's field the error names (its ``field``), else among the form's own errors, else
a flashed message; ``saved.status`` is then the error's status (400, 404, 409). A
page that shows a refusal its own way (a list of problems, a panel) passes
``show=False`` and shows ``saved.error`` itself. Anything else rolls back and goes on
to errors.py (a 500, or a 503 for a database that is gone).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Field

from ..errors import DomainError
from ..extensions import db


class Outcome:
    """What one ``transaction()`` block came to: true when it committed."""

    def __init__(self) -> None:
        self.committed = False
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.committed

    @property
    def status(self) -> int:
        return self.error.status_code if self.error is not None else 200

    @property
    def message(self) -> str:
        return str(self.error) if self.error is not None else ""


@contextmanager
def transaction(where: Field | FlaskForm | None = None, *, show: bool = True) -> Iterator[Outcome]:
    """Commits the block's work, or rolls it back and shows a ``DomainError`` at
    ``where`` (a field, a form, or a flashed message when None); with ``show=False``
    the view shows ``outcome.error`` itself."""
    outcome = Outcome()
    try:
        yield outcome
        db.session.flush()  # a rule checked as rows are written refuses like any other
    except DomainError as error:
        db.session.rollback()
        outcome.error = error
        if show:
            _show(error, where)
        return
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    outcome.committed = True


def add_error(field: Field, *messages: str) -> None:
    """Puts messages beside a field, after those its validators left."""
    field.errors = [*field.errors, *messages]


def _show(error: DomainError, where: Field | FlaskForm | None) -> None:
    message = str(error)
    named = getattr(error, "field", None)
    if isinstance(where, FlaskForm) and isinstance(named, str) and named in where:
        where = where[named]
    if isinstance(where, Field):
        add_error(where, message)
    elif isinstance(where, FlaskForm):
        where.form_errors.append(message)
    else:
        flash(message, "error")
