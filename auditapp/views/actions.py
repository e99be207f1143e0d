"""Corrective actions: the store's list, one action and its steps, and the repeat-findings report."""

from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")
