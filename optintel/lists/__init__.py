from flask import Blueprint

bp = Blueprint("lists", __name__)

from . import routes  # noqa: E402,F401
