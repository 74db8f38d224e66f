"""API Keys: the keys of the REST API, for Global Admins; a key is shown once, when issued."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from .. import catalog
from ..crud import saved
from ..extensions import db
from ..guards import guard_blueprint
from ..models import ApiKey
from ..pagination import keyset_page
from . import bp
from .forms import ApiKeyForm

guard_blueprint(bp, "api_keys")


@bp.route("/")
def index():
    """The API keys table, newest first; never the keys themselves."""
    query = sa.select(ApiKey).options(selectinload(ApiKey.user))
    page = keyset_page(db.session, query, ApiKey.id, request.args)
    return render_template("api_keys/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Issue a key and show it this once."""
    form, row = ApiKeyForm(), ApiKey()
    if saved(form, row, catalog.apply_api_key, lambda key: f"API key {key.name} created."):
        # Rendered, not redirected: the key exists in clear only in this response.
        return render_template("api_keys/created.html", api_key=row, key=row.plain_key)
    return render_template("api_keys/form.html", form=form)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
def revoke(key_id):
    """Delete a key, so that requests with it are refused."""
    row = db.session.get(ApiKey, key_id) or abort(404)
    db.session.delete(row)
    db.session.commit()
    flash(f"API key {row.name} ({row.prefix}…) revoked; requests with it are refused from now on.")
    return redirect(url_for(".index"))
