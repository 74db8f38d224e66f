"""Email and SMS campaigns: one blueprint per channel, same code.

Global Admins see every campaign; Campaign Managers see and change the campaigns they manage
(all but the manager); others' campaigns answer 404 so that their existence does not leak."""
from flask_login import current_user
from flask_smorest import abort

from .. import access, catalog
from ..extensions import db
from ..guards import admin_only
from ..models import Campaign, Channel
from . import blueprint, fails_with
from .crud import delete_unless_in_use, save
from .unsubscribe_links import add_unsubscribe_links_route
from .schemas import (CampaignChangesSchema, CampaignSchema, NewCampaignSchema,
                      NewSmsCampaignSchema, SmsCampaignChangesSchema, SmsCampaignSchema)

# (campaign, changes, new campaign) schemas by channel: SMS campaigns add their auth token.
SCHEMAS = {Channel.EMAIL: (CampaignSchema, CampaignChangesSchema, NewCampaignSchema),
           Channel.PHONE: (SmsCampaignSchema, SmsCampaignChangesSchema, NewSmsCampaignSchema)}


def _forbid_admin_changes(campaign, changes):
    """403 when a Campaign Manager tries to hand their campaign to someone else or to change
    the lists it is scrubbed against."""
    if current_user.is_admin:
        return
    current = {"manager_id": campaign.manager_id,
               "list_ids": sorted({lst.id for lst in campaign.opt_out_lists})}
    wanted = {**current, **changes}
    wanted["list_ids"] = sorted(set(wanted["list_ids"]))
    if any(wanted[name] != current[name] for name in access.ADMIN_ONLY_CAMPAIGN_FIELDS):
        abort(403, message="Only a Global Admin changes the manager or the lists of a campaign.")


def campaigns_blueprint(channel, url):
    """The blueprint of one channel's campaigns, at /api/v1/email-campaigns or /sms-campaigns."""
    bp = blueprint(url, f"{channel.campaign_label} campaigns.", access.AREAS["campaigns"])
    schema, changes_schema, new_schema = SCHEMAS[channel]

    def get_campaign(campaign_id):
        return access.campaign_for(current_user, campaign_id, channel) or abort(404)

    @bp.route("", methods=["GET"])
    @fails_with(bp, 403)
    @bp.response(200, schema(many=True))
    def index():
        """The campaigns the caller may open, oldest first."""
        query = access.visible_campaigns_query(current_user, channel).order_by(Campaign.id)
        return db.session.scalars(query).all()

    @bp.route("", methods=["POST"])
    @fails_with(bp, 400, 403)
    @admin_only
    @bp.arguments(new_schema)
    @bp.response(201, schema)
    def create(values):
        """Create a campaign (Global Admin)."""
        return save(Campaign(channel=channel), catalog.apply_campaign, values)

    @bp.route("/<int:campaign_id>", methods=["GET"])
    @fails_with(bp, 403, 404)
    @bp.response(200, schema)
    def show(campaign_id):
        """One campaign."""
        return get_campaign(campaign_id)

    @bp.route("/<int:campaign_id>", methods=["PATCH"])
    @fails_with(bp, 400, 403, 404)
    @bp.arguments(changes_schema)
    @bp.response(200, schema)
    def update(changes, campaign_id):
        """Change some fields of a campaign; the manager by a Global Admin only."""
        campaign = get_campaign(campaign_id)
        _forbid_admin_changes(campaign, changes)
        return save(campaign, catalog.apply_campaign,
                    {"name": campaign.name, "status": campaign.status, **changes})

    @bp.route("/<int:campaign_id>", methods=["DELETE"])
    @fails_with(bp, 403, 404, 409)
    @admin_only
    @bp.response(204)
    def delete(campaign_id):
        """Delete a campaign that has no history (409 with the reason otherwise)."""
        campaign = get_campaign(campaign_id)
        delete_unless_in_use(campaign, catalog.campaign_in_use(campaign))

    if channel == Channel.EMAIL:
        add_unsubscribe_links_route(bp, get_campaign)
    return bp


email_bp = campaigns_blueprint(Channel.EMAIL, "/email-campaigns")
sms_bp = campaigns_blueprint(Channel.PHONE, "/sms-campaigns")
