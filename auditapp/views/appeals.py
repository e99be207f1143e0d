"""Appeals: a store manager disputes a finding; the agency upholds or rejects it."""

from flask import Blueprint

bp = Blueprint("appeals", __name__, url_prefix="/appeals")
