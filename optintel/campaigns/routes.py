"""Campaigns: the email and SMS campaigns, their settings and Tracking tab."""
from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import catalog, sms_replies, unsubscribe_links
from ..access import visible_campaigns_query
from ..crud import deleted, saved
from ..extensions import db
from ..guards import admin_only, campaign_or_404, guard_blueprint
from ..models import Campaign, Channel, Level
from ..pagination import keyset_page
from ..tracking.panel import panel_context
from . import bp
from .forms import CampaignForm

CHANNEL = "<any(email, phone):channel>"
CAMPAIGN = CHANNEL + "/<int:campaign_id>"


guard_blueprint(bp, "campaigns")


@bp.route(f"/{CHANNEL}/")
def index(channel):
    """The campaigns of a channel that the user may open, newest first."""
    query = visible_campaigns_query(current_user, channel).options(
        selectinload(Campaign.manager), selectinload(Campaign.mailers),
        selectinload(Campaign.opt_out_lists))
    page = keyset_page(db.session, query, Campaign.id, request.args)
    return render_template("campaigns/index.html", channel=Channel(channel), page=page)


@bp.route(f"/{CHANNEL}/new", methods=["GET", "POST"])
@admin_only
def new(channel):
    """Create an email or SMS campaign."""
    campaign = Campaign(channel=Channel(channel))
    form = CampaignForm(campaign, current_user)
    if saved(form, campaign, catalog.apply_campaign, lambda c: f"Campaign “{c.name}” created."):
        return redirect(url_for(".edit", channel=channel, campaign_id=campaign.id))
    return render_template("campaigns/form.html", channel=campaign.channel, form=form,
                           campaign=None)


def _opt_out_sources(campaign):
    """Where the campaign's own opt-outs come from: each mailer's unsubscribe link, or the STOP
    webhook."""
    if campaign.channel == Channel.EMAIL:
        return {"unsubscribe": unsubscribe_links.campaign_links(campaign)}
    return {"webhook_url": sms_replies.webhook_url(campaign)}


@bp.route(f"/{CAMPAIGN}/edit", methods=["GET", "POST"])
def edit(channel, campaign_id):
    """The Settings tab of a campaign, with where its opt-outs come from."""
    campaign = campaign_or_404(campaign_id, channel)
    form = CampaignForm(campaign, current_user)
    if saved(form, campaign, catalog.apply_campaign, "Settings saved."):
        return redirect(url_for(".edit", channel=channel, campaign_id=campaign_id))
    return render_template("campaigns/form.html", channel=campaign.channel, form=form,
                           campaign=campaign, **_opt_out_sources(campaign))


@bp.route(f"/{CAMPAIGN}/delete", methods=["POST"])
@admin_only
def delete(channel, campaign_id):
    """Delete a campaign, unless it has history."""
    campaign = campaign_or_404(campaign_id, channel)
    deleted(campaign, catalog.campaign_in_use(campaign), f"Campaign “{campaign.name}”")
    return redirect(url_for(".index", channel=channel))


@bp.route(f"/{CAMPAIGN}/tracking")
def tracking(channel, campaign_id):
    """The Tracking tab of a campaign: its rules."""
    campaign = campaign_or_404(campaign_id, channel)
    return render_template("campaigns/tracking.html", campaign=campaign,
                           **panel_context(Level.of_campaign(campaign.channel), campaign))
