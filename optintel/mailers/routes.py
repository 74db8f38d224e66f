import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from .. import catalog
from ..access import admin_only
from ..extensions import db
from ..models import Mailer
from ..pagination import keyset_page
from ..validation import Invalid
from . import bp
from .forms import MailerForm


def _mailer_or_404(mailer_id):
    return db.session.get(Mailer, mailer_id) or abort(404)


def _saved(mailer, form):
    """Apply the form through the domain rules and commit; False, errors on the form, if invalid."""
    try:
        catalog.apply_mailer(mailer, **form.values())
    except Invalid as invalid:
        invalid.show_on(form)
        return False
    db.session.add(mailer)
    db.session.commit()
    flash(f"Mailer {mailer.nickname} saved.")
    return True


@bp.route("/")
@login_required
@admin_only
def index():
    """The mailers table, newest first."""
    page = keyset_page(db.session, sa.select(Mailer), Mailer.id, request.args)
    return render_template("mailers/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@admin_only
def create():
    """Add a mailer."""
    form = MailerForm()
    if form.validate_on_submit() and _saved(Mailer(), form):
        return redirect(url_for(".index"))
    return render_template("mailers/form.html", form=form, mailer=None)


@bp.route("/<int:mailer_id>/edit", methods=["GET", "POST"])
@login_required
@admin_only
def edit(mailer_id):
    """Change a mailer."""
    mailer = _mailer_or_404(mailer_id)
    form = MailerForm(obj=mailer)
    if form.validate_on_submit() and _saved(mailer, form):
        return redirect(url_for(".index"))
    return render_template("mailers/form.html", form=form, mailer=mailer)


@bp.route("/<int:mailer_id>/delete", methods=["POST"])
@login_required
@admin_only
def delete(mailer_id):
    """Delete a mailer, unless its history must be kept."""
    mailer = _mailer_or_404(mailer_id)
    reason = catalog.mailer_in_use(mailer)
    if reason:
        flash(f"Mailer {mailer.nickname} cannot be deleted: {reason}", "error")
    else:
        db.session.delete(mailer)
        db.session.commit()
        flash(f"Mailer {mailer.nickname} deleted.")
    return redirect(url_for(".index"))
