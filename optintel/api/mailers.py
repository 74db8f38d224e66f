"""Mailers: read by Global Admins and Campaign Managers, written by Global Admins."""
import sqlalchemy as sa

from .. import catalog
from ..access import MAILER_READERS
from ..extensions import db
from ..guards import admin_only
from ..models import Mailer
from . import blueprint, fails_with
from .crud import delete_unless_in_use, save
from .schemas import MailerChangesSchema, MailerSchema, NewMailerSchema

bp = blueprint("/mailers", "Third-party senders of campaigns.", MAILER_READERS)
FIELDS = ("company_name", "nickname", "email", "web_address", "notes", "status")


@bp.route("", methods=["GET"])
@fails_with(bp, 403)
@bp.response(200, MailerSchema(many=True))
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
    return save(Mailer(), catalog.apply_mailer, values)


@bp.route("/<int:mailer_id>", methods=["GET"])
@fails_with(bp, 403, 404)
@bp.response(200, MailerSchema)
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
    current = {name: getattr(mailer, name) for name in FIELDS}
    return save(mailer, catalog.apply_mailer, {**current, **changes})


@bp.route("/<int:mailer_id>", methods=["DELETE"])
@fails_with(bp, 403, 404, 409)
@admin_only
@bp.response(204)
def delete(mailer_id):
    """Delete a mailer that has no history (409 with the reason otherwise)."""
    mailer = db.get_or_404(Mailer, mailer_id)
    delete_unless_in_use(mailer, catalog.mailer_in_use(mailer))
