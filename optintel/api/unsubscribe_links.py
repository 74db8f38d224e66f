"""POST /api/v1/email-campaigns/{id}/unsubscribe-links: the unsubscribe links of one of the
campaign's mailers, one per recipient so that mailers can put each message's own link in its
List-Unsubscribe header (RFC 8058 one-click needs the link to name the address). Whoever may
open the campaign may make them."""
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from .. import unsubscribe_links
from ..config import Config
from ..validation import Invalid
from . import fails_with
from .fields import Integer
from .schemas import InvalidValueSchema


class LinksRequestSchema(Schema):
    mailer_id = Integer(required=True, metadata={
        "description": "A mailer that sends the campaign."})
    emails = fields.List(fields.Raw(allow_none=True), load_default=None,
                         validate=validate.Length(max=Config.OPTINTEL_MAX_BATCH), metadata={
        "description": f"Up to {Config.OPTINTEL_MAX_BATCH:,} recipients' addresses, a link "
                       f"for each; each bad one is reported under invalid. Left out: the "
                       f"mailer's one link, which asks for the address."})


class LinkSchema(Schema):
    email = fields.String(allow_none=True, metadata={
        "description": "The address as sent; null for the link that asks for it."})
    url = fields.String(metadata={"description": "The unsubscribe link (GET: its page; POST "
                                                 "List-Unsubscribe=One-Click: one-click)."})


class LinksSchema(Schema):
    links = fields.List(fields.Nested(LinkSchema), metadata={
        "description": "In the order of emails."})
    invalid = fields.List(fields.Nested(InvalidValueSchema))


def add_unsubscribe_links_route(bp, get_campaign):
    """Add the unsubscribe links route to the email campaigns' API blueprint."""

    @bp.route("/<int:campaign_id>/unsubscribe-links", methods=["POST"])
    @fails_with(bp, 403, 404, 409)
    @bp.arguments(LinksRequestSchema)
    @bp.response(200, LinksSchema)
    def unsubscribe_links_of(body, campaign_id):
        """Unsubscribe links of a mailer of the campaign: one per address, or the one that asks for
        it. 409 while they would unsubscribe no one (a disabled campaign or mailer, or no active
        Single list to put unsubscribes in)."""
        campaign = get_campaign(campaign_id)
        mailer = next((m for m in campaign.mailers if m.id == body["mailer_id"]), None)
        if mailer is None:
            raise Invalid.on("mailer_id", f"No such mailer of this campaign: {body['mailer_id']}.")
        problem = unsubscribe_links.problem(campaign, mailer)
        if problem:
            abort(409, message=problem)
        links, invalid = unsubscribe_links.urls_for(campaign, mailer, body["emails"])
        return {"links": links, "invalid": invalid}
