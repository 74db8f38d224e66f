"""Email and phone opt-out lists and the contacts they hold: one blueprint per channel, same code.

Global Admins see every list; List Owners see and change their own (name, status, suppressed
domains and contacts); others' lists answer 404 so that their existence does not leak."""
from dataclasses import dataclass

from flask_login import current_user
from flask_smorest import abort

from .. import access, catalog
from ..contact_changes import add_contacts, origin_for, remove_contacts
from ..extensions import db
from ..guards import admin_only
from ..models import Channel, ContactSource, OptOutList
from . import blueprint, fails_with
from .bulk import add_bulk_routes
from .crud import delete_unless_in_use, save
from .schemas import (AddedSchema, EmailListChangesSchema, EmailListSchema, EmailsToAddSchema,
                      EmailsToRemoveSchema, NewEmailListSchema, NewPhoneListSchema,
                      PhoneListChangesSchema, PhoneListSchema, PhonesToAddSchema,
                      PhonesToRemoveSchema, RemovedSchema)


@dataclass(frozen=True)
class ChannelApi:
    """What differs between the email and the phone lists of the API."""

    channel: Channel
    url: str
    values: str
    schema: type
    new: type
    changes: type
    to_add: type
    to_remove: type


EMAIL = ChannelApi(Channel.EMAIL, "/email-lists", "emails", EmailListSchema, NewEmailListSchema,
                   EmailListChangesSchema, EmailsToAddSchema, EmailsToRemoveSchema)
PHONE = ChannelApi(Channel.PHONE, "/phone-lists", "phones", PhoneListSchema, NewPhoneListSchema,
                   PhoneListChangesSchema, PhonesToAddSchema, PhonesToRemoveSchema)


def _current_values(opt_out_list):
    """The values a PATCH starts from: apply_list needs name and status every time."""
    return {"name": opt_out_list.name, "status": opt_out_list.status}


def _domain_arguments(body):
    """The API body as apply_list's keyword arguments."""
    renames = {"type": "kind", "members": "member_ids"}
    return {renames.get(key, key): value for key, value in body.items()}


def _forbid_admin_changes(opt_out_list, changes):
    """403 when a List Owner tries to change the owner or the members of their list."""
    if current_user.is_admin:
        return
    new_owner = changes.get("owner_id", opt_out_list.owner_id) != opt_out_list.owner_id
    current_members = sorted(m.id for m in opt_out_list.members)
    new_members = sorted(changes.get("members", current_members)) != current_members
    if new_owner or new_members:
        abort(403, message="Only a Global Admin changes the owner or the members of a list.")


def lists_blueprint(api):
    """The blueprint of one channel's opt-out lists, at /api/v1/email-lists or /phone-lists."""
    bp = blueprint(api.url, f"{api.channel.label} opt-out lists and their contacts.",
                   access.AREAS["lists"])

    def get_list(list_id):
        return access.list_for(current_user, list_id, api.channel) or abort(404)

    @bp.route("", methods=["GET"])
    @fails_with(bp, 403)
    @bp.response(200, api.schema(many=True))
    def index():
        """The lists the caller may open, oldest first."""
        query = access.visible_lists_query(current_user, api.channel).order_by(OptOutList.id)
        return db.session.scalars(query).all()

    @bp.route("", methods=["POST"])
    @fails_with(bp, 400, 403)
    @admin_only
    @bp.arguments(api.new)
    @bp.response(201, api.schema)
    def create(values):
        """Create a list (Global Admin)."""
        return save(OptOutList(channel=api.channel), catalog.apply_list, _domain_arguments(values))

    @bp.route("/<int:list_id>", methods=["GET"])
    @fails_with(bp, 403, 404)
    @bp.response(200, api.schema)
    def show(list_id):
        """One list."""
        return get_list(list_id)

    @bp.route("/<int:list_id>", methods=["PATCH"])
    @fails_with(bp, 400, 403, 404)
    @bp.arguments(api.changes)
    @bp.response(200, api.schema)
    def update(changes, list_id):
        """Change some fields of a list; owner and members by a Global Admin only."""
        opt_out_list = get_list(list_id)
        _forbid_admin_changes(opt_out_list, changes)
        return save(opt_out_list, catalog.apply_list,
                    _domain_arguments({**_current_values(opt_out_list), **changes}))

    @bp.route("/<int:list_id>", methods=["DELETE"])
    @fails_with(bp, 403, 404, 409)
    @admin_only
    @bp.response(204)
    def delete(list_id):
        """Delete a list that holds nothing and has no history (409 with the reason otherwise)."""
        opt_out_list = get_list(list_id)
        delete_unless_in_use(opt_out_list, catalog.list_in_use(opt_out_list))

    @bp.route(f"/<int:list_id>/{api.values}-add", methods=["POST"])
    @fails_with(bp, 400, 403, 404, 409)
    @bp.arguments(api.to_add)
    @bp.response(200, AddedSchema)
    def add(body, list_id):
        """Add contacts to a Single list, in one transaction; each added one fires Contact Added."""
        opt_out_list = get_list(list_id)
        origin = origin_for(opt_out_list, ContactSource.API, body["mailer_id"], body["campaign_id"],
                            current_user)
        return add_contacts(opt_out_list, body[api.values], origin)

    @bp.route(f"/<int:list_id>/{api.values}-remove", methods=["POST"])
    @fails_with(bp, 400, 403, 404, 409)
    @bp.arguments(api.to_remove)
    @bp.response(200, RemovedSchema)
    def remove(body, list_id):
        """Delete contacts from a Single list, in one transaction; each fires Contact Deleted."""
        opt_out_list = get_list(list_id)
        return remove_contacts(opt_out_list, body[api.values], origin_for(opt_out_list,
                                                                          ContactSource.API))

    add_bulk_routes(bp, get_list)
    return bp


email_bp = lists_blueprint(EMAIL)
phone_bp = lists_blueprint(PHONE)
