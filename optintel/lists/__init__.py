from flask import Blueprint

bp = Blueprint("lists", __name__)

from . import bulk, routes  # noqa: E402,F401
