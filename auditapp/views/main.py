"""The start page and the language switch."""

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..config import LANGUAGES
from ..extensions import db
from ..models import Client, ShopperProfile, Store
from ..permissions import client_scope, shopper_scope, store_scope
from . import safe_next
from .transaction import transaction

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home() -> ResponseReturnValue:
    counts = {
        "clients": db.session.scalar(
            select(func.count(Client.id)).where(client_scope(current_user))
        ),
        "stores": db.session.scalar(select(func.count(Store.id)).where(store_scope(current_user))),
        "shoppers": db.session.scalar(
            select(func.count(ShopperProfile.id)).where(shopper_scope(current_user))
        ),
    }
    return render_template("main/home.html", counts=counts)


@bp.route("/language", methods=["POST"])
def set_language() -> ResponseReturnValue:
    locale = request.form.get("locale", "")
    if locale in LANGUAGES:
        session["locale"] = locale
        if current_user.is_authenticated:
            with transaction():
                current_user.locale = locale
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))
