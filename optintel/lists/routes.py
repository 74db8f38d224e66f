from flask import render_template
from flask_login import login_required

from . import bp


@bp.route("/<any(email, phone):channel>/")
@login_required
def index(channel):
    return render_template("placeholder.html", title="lists")
