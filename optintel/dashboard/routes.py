from flask import render_template
from flask_login import login_required

from ..health import health
from . import bp


@bp.route("/")
@login_required
def index():
    return render_template("dashboard/index.html")


@bp.route("/healthz")
def healthz():
    report = health()
    return report, 200 if report["db"] == "ok" else 503
