"""The Tracking tab of the five levels: the rules table, the Add Rule and Test Run pop-ups."""
from flask import Blueprint

bp = Blueprint("tracking", __name__)

from . import routes, rule_test_runs  # noqa: E402,F401
