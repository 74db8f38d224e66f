from flask import render_template
from flask_login import login_required

from . import bp


@bp.route("/")
@login_required
def index():
    """System Management > Logs."""
    return render_template("logs/index.html")
