"""Mailers: read by Global Admins and Campaign Managers, written by Global Admins."""
import sqlalchemy as sa
from flask_smorest import abort

from .. import catalog
from ..access import admin_only, require_roles
from ..extensions import db
from ..models import Mailer, Role
from . import blueprint, fails_with
from .schemas import MailerChangesSchema, MailerSchema, NewMailerSchema

bp = blueprint("/mailers", "Third-party senders of campaigns.")
readers = require_roles(Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER)
FIELDS = ("company_name", "nickname", "email", "web_address", "notes", "status")


def _save(mailer, values):
    """Apply the values through the domain rules (Invalid becomes 422) and commit."""
    catalog.apply_mailer(mailer, **values)
    db.session.add(mailer)
    db.session.commit()
    return mailer


@bp.route("", methods=["GET"])
@fails_with(bp, 403)
@bp.response(200, MailerSchema(many=True))
@readers
def index():
    """All mailers, oldest first."""
    return db.session.scalars(sa.select(Mailer).order_by(Mailer.id)).all()


@bp.route("", methods=["POST"])
@fails_with(bp, 400, 403)
@admin_only
@bp.arguments(NewMailerSchema)
@bp.response(201, MailerSchema)
def create(values):
    """Create a mailer."""
    return _save(Mailer(), values)


@bp.route("/<int:mailer_id>", methods=["GET"])
@fails_with(bp, 403, 404)
@bp.response(200, MailerSchema)
@readers
def show(mailer_id):
    """One mailer."""
    return db.get_or_404(Mailer, mailer_id)


@bp.route("/<int:mailer_id>", methods=["PATCH"])
@fails_with(bp, 400, 403, 404)
@admin_only
@bp.arguments(MailerChangesSchema)
@bp.response(200, MailerSchema)
def update(changes, mailer_id):
    """Change some fields of a mailer."""
    mailer = db.get_or_404(Mailer, mailer_id)
    return _save(mailer, {**{f: getattr(mailer, f) for f in FIELDS}, **changes})


@bp.route("/<int:mailer_id>", methods=["DELETE"])
@fails_with(bp, 403, 404, 409)
@admin_only
@bp.response(204)
def delete(mailer_id):
    """Delete a mailer that has no history (409 with the reason otherwise)."""
    mailer = db.get_or_404(Mailer, mailer_id)
    reason = catalog.mailer_in_use(mailer)
    if reason:
        abort(409, message=reason)
    db.session.delete(mailer)
    db.session.commit()
