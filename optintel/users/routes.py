"""Users: the people who use the dashboard, for Global Admins."""
import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from .. import catalog
from ..crud import saved
from ..extensions import db
from ..guards import guard_blueprint
from ..models import User
from ..pagination import keyset_page
from . import bp
from .forms import UserCreateForm, UserEditForm

guard_blueprint(bp, "users")


def _saved(form, user):
    return saved(form, user, catalog.apply_user, lambda u: f"User {u.email} saved.",
                 acting_user=current_user)


@bp.route("/")
def index():
    """The users table, newest first."""
    page = keyset_page(db.session, sa.select(User), User.id, request.args)
    return render_template("users/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Add a user with a first password."""
    form = UserCreateForm()
    if _saved(form, User()):
        return redirect(url_for(".index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id):
    """Change a user's name, role, activity or password."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    if _saved(form, user):
        return redirect(url_for(".index"))
    return render_template("users/form.html", form=form, user=user)
