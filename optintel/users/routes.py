import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import catalog
from ..access import admin_only
from ..extensions import db
from ..models import User
from ..pagination import keyset_page
from ..validation import Invalid
from . import bp
from .forms import UserCreateForm, UserEditForm


def _saved(user, form):
    """Apply the form through the domain rules and commit; False, errors on the form, if invalid."""
    try:
        catalog.apply_user(user, **form.values(), acting_user=current_user)
    except Invalid as invalid:
        invalid.show_on(form)
        return False
    db.session.add(user)
    db.session.commit()
    flash(f"User {user.email} saved.")
    return True


@bp.route("/")
@login_required
@admin_only
def index():
    """The users table, newest first."""
    page = keyset_page(db.session, sa.select(User), User.id, request.args)
    return render_template("users/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@admin_only
def create():
    """Add a user with a first password."""
    form = UserCreateForm()
    if form.validate_on_submit() and _saved(User(), form):
        return redirect(url_for(".index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
@admin_only
def edit(user_id):
    """Change a user's name, role, activity or password."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    if form.validate_on_submit() and _saved(user, form):
        return redirect(url_for(".index"))
    return render_template("users/form.html", form=form, user=user)
