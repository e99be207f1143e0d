"""In-app notifications and each user's alert preferences."""

from flask import Blueprint

bp = Blueprint("alerts", __name__)
