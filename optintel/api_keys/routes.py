import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.orm import selectinload

from ..access import admin_only
from ..extensions import db
from ..models import ApiKey, User
from ..pagination import keyset_page
from . import bp
from .forms import ApiKeyForm


@bp.route("/")
@login_required
@admin_only
def index():
    """The API keys table, newest first; never the keys themselves."""
    query = sa.select(ApiKey).options(selectinload(ApiKey.user))
    page = keyset_page(db.session, query, ApiKey.id, request.args)
    return render_template("api_keys/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@admin_only
def create():
    """Issue a key and show it this once."""
    form = ApiKeyForm()
    form.user_id.choices = [(u.id, f"{u.email} ({u.role.label})") for u in
                            db.session.scalars(sa.select(User).where(User.active).order_by(User.email))]
    if form.validate_on_submit():
        row, key = ApiKey.issue(db.session.get(User, form.user_id.data), form.name.data.strip())
        db.session.add(row)
        db.session.commit()
        # Rendered, not redirected: the key exists in clear only in this response.
        return render_template("api_keys/created.html", api_key=row, key=key)
    return render_template("api_keys/form.html", form=form)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@login_required
@admin_only
def revoke(key_id):
    """Delete a key, so that requests with it are refused."""
    row = db.session.get(ApiKey, key_id) or abort(404)
    db.session.delete(row)
    db.session.commit()
    flash(f"API key {row.name} ({row.prefix}…) revoked; requests with it are refused from now on.")
    return redirect(url_for(".index"))
