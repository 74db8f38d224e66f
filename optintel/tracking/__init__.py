"""The Tracking tab of the five levels: the rules table and the Add Rule pop-up."""
from flask import Blueprint

bp = Blueprint("tracking", __name__)

from . import routes  # noqa: E402,F401
