"""The store manager's phone view of their store's published results."""

from flask import Blueprint

bp = Blueprint("my_store", __name__, url_prefix="/my-store")
