from flask import render_template
from flask_login import current_user, login_required

from ..health import health
from ..rules.presenting import paused_rules
from . import bp


@bp.route("/")
@login_required
def index():
    """The menu, and the paused rules the user may manage."""
    return render_template("dashboard/index.html", paused=paused_rules(current_user))


@bp.route("/healthz")
def healthz():
    report = health()
    return report, 200 if report["db"] == "ok" else 503
