"""Mailers: the third-party senders, for Global Admins."""
import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for

from .. import catalog
from ..crud import deleted, saved
from ..extensions import db
from ..guards import guard_blueprint
from ..models import Mailer
from ..pagination import keyset_page
from . import bp
from .forms import MailerForm

guard_blueprint(bp, "mailers")


def _mailer_or_404(mailer_id):
    return db.session.get(Mailer, mailer_id) or abort(404)


def _saved_message(mailer):
    return f"Mailer {mailer.nickname} saved."


@bp.route("/")
def index():
    """The mailers table, newest first."""
    page = keyset_page(db.session, sa.select(Mailer), Mailer.id, request.args)
    return render_template("mailers/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Add a mailer."""
    form = MailerForm()
    if saved(form, Mailer(), catalog.apply_mailer, _saved_message):
        return redirect(url_for(".index"))
    return render_template("mailers/form.html", form=form, mailer=None)


@bp.route("/<int:mailer_id>/edit", methods=["GET", "POST"])
def edit(mailer_id):
    """Change a mailer."""
    mailer = _mailer_or_404(mailer_id)
    form = MailerForm(obj=mailer)
    if saved(form, mailer, catalog.apply_mailer, _saved_message):
        return redirect(url_for(".index"))
    return render_template("mailers/form.html", form=form, mailer=mailer)


@bp.route("/<int:mailer_id>/delete", methods=["POST"])
def delete(mailer_id):
    """Delete a mailer, unless its history must be kept."""
    mailer = _mailer_or_404(mailer_id)
    deleted(mailer, catalog.mailer_in_use(mailer), f"Mailer {mailer.nickname}")
    return redirect(url_for(".index"))
