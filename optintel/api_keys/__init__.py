from flask import Blueprint

bp = Blueprint("api_keys", __name__)

from . import routes  # noqa: E402,F401
