from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login
from ..models import User
from . import bp, throttling
from .credentials import authenticate
from .forms import LoginForm


@login.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


def _safe_next(target):
    """Only same-site paths are followed after login."""
    parts = urlsplit(target or "")
    return target if target and not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            throttling.count_failure()
            form.password.errors.append("Wrong email or password.")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login_page"))
