from flask import Blueprint

bp = Blueprint("logs", __name__)

from . import routes  # noqa: E402,F401
