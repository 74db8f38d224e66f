from flask import Blueprint

bp = Blueprint("mailers", __name__)

from . import routes  # noqa: E402,F401
