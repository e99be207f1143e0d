"""views/transaction.py: the one place a view commits, and how a refusal is shown."""

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from wtforms import StringField

from auditapp.errors import Conflict, DomainError
from auditapp.extensions import db
from auditapp.models import Client
from auditapp.views.transaction import Outcome, transaction


class _Form(FlaskForm):
    code = StringField()
    name = StringField()


class _Refused(DomainError):
    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _codes() -> list[str]:
    return list(db.session.scalars(select(Client.code).order_by(Client.code)))


def test_a_block_that_succeeds_is_committed(app: Flask, make_client: Callable[..., Any]) -> None:
    with app.test_request_context(method="POST"):
        with transaction() as saved:
            make_client("KEPT")
        db.session.rollback()  # a later failure in the request cannot take it back
        assert saved and saved.status == 200 and saved.error is None
        assert _codes() == ["KEPT"]


def test_a_refusal_is_rolled_back_and_shown_beside_the_field(
    app: Flask, make_client: Callable[..., Any]
) -> None:
    with app.test_request_context(method="POST"):
        form = _Form(meta={"csrf": False})
        form.validate()
        with transaction(form.code) as saved:
            make_client("GONE")
            raise Conflict("That code is taken.")
        assert not saved
        assert (saved.status, saved.message) == (409, "That code is taken.")
        assert form.code.errors == ["That code is taken."]
        assert _codes() == []
        assert get_flashed_messages() == []


def test_a_refusal_naming_a_field_goes_beside_that_field_of_the_form(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        form = _Form(meta={"csrf": False})
        form.validate()
        with transaction(form) as saved:
            raise _Refused("name", "Give a name.")
        assert saved.status == 422
        assert (form.name.errors, form.code.errors, form.form_errors) == (["Give a name."], [], [])
        with transaction(form):
            raise DomainError("Something about the whole form.")
        assert form.form_errors == ["Something about the whole form."]


def test_without_a_field_the_refusal_is_flashed(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        with transaction() as saved:
            raise DomainError("Not now.")
        assert saved.status == 400
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]


def test_a_page_that_shows_the_refusal_itself_gets_it_unshown(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        with transaction(show=False) as saved:
            raise _Refused("code", "Listed on the page.")
        assert isinstance(saved.error, _Refused)
        assert get_flashed_messages() == []


def test_a_rule_checked_as_rows_are_written_is_a_refusal_too(
    app: Flask, make_client: Callable[..., Any]
) -> None:
    def refuse(session: Session, *_args: object) -> None:
        if any(isinstance(obj, Client) for obj in session.new):
            raise Conflict("Locked.")

    with app.test_request_context(method="POST"):
        event.listen(Session, "before_flush", refuse)
        try:
            with transaction() as saved:
                db.session.add(Client(code="LATE", name="Late brand"))
        finally:
            event.remove(Session, "before_flush", refuse)
        assert (saved.committed, saved.status) == (False, 409)
        assert _codes() == []


def test_any_other_error_is_rolled_back_and_goes_on(
    app: Flask, make_client: Callable[..., Any]
) -> None:
    with app.test_request_context(method="POST"):
        with pytest.raises(RuntimeError), transaction():
            make_client("BROKEN")
            raise RuntimeError("a bug")
        assert _codes() == []


def test_an_outcome_not_tried_reads_as_a_plain_page() -> None:
    outcome = Outcome()
    assert not outcome and outcome.status == 200 and outcome.message == ""
