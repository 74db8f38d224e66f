"""Campaigns: the email and SMS campaigns, their settings and Tracking tab."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from .. import catalog
from ..access import admin_only, get_campaign_or_404, visible_campaigns_query
from ..extensions import db
from ..models import Campaign, Channel, Level, Role
from ..pagination import keyset_page
from ..tracking.panel import panel_context
from ..validation import Invalid
from . import bp
from .forms import CampaignForm

CHANNEL = "<any(email, phone):channel>"
CAMPAIGN = CHANNEL + "/<int:campaign_id>"


@bp.before_request
@login_required
def only_admins_and_campaign_managers():
    """Campaigns are for Global Admins and Campaign Managers."""
    if current_user.role not in (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER):
        abort(403)


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
    if form.validate_on_submit() and _saved(form, campaign):
        flash(f"Campaign “{campaign.name}” created.")
        return redirect(url_for(".edit", channel=channel, campaign_id=campaign.id))
    return render_template("campaigns/form.html", channel=campaign.channel, form=form,
                           campaign=None)


@bp.route(f"/{CAMPAIGN}/edit", methods=["GET", "POST"])
def edit(channel, campaign_id):
    """The Settings tab of a campaign."""
    campaign = get_campaign_or_404(campaign_id, channel, current_user)
    form = CampaignForm(campaign, current_user)
    if form.validate_on_submit() and _saved(form, campaign):
        flash("Settings saved.")
        return redirect(url_for(".edit", channel=channel, campaign_id=campaign_id))
    return render_template("campaigns/form.html", channel=campaign.channel, form=form,
                           campaign=campaign)


def _saved(form, campaign):
    """Apply the form through the catalog and commit; on bad input the messages go beside fields."""
    try:
        catalog.apply_campaign(campaign, **form.changes())
    except Invalid as exc:
        exc.show_on(form)
        return False
    db.session.add(campaign)
    db.session.commit()
    return True


@bp.route(f"/{CAMPAIGN}/delete", methods=["POST"])
@admin_only
def delete(channel, campaign_id):
    """Delete a campaign, unless it has history."""
    campaign = get_campaign_or_404(campaign_id, channel, current_user)
    reason = catalog.campaign_in_use(campaign)
    if reason:
        flash(f"“{campaign.name}” was not deleted. {reason}", "error")
    else:
        db.session.delete(campaign)
        db.session.commit()
        flash(f"Campaign “{campaign.name}” deleted.")
    return redirect(url_for(".index", channel=channel))


@bp.route(f"/{CAMPAIGN}/tracking")
def tracking(channel, campaign_id):
    """The Tracking tab of a campaign: its rules."""
    campaign = get_campaign_or_404(campaign_id, channel, current_user)
    return render_template("campaigns/tracking.html", campaign=campaign,
                           **panel_context(Level.of_campaign(campaign.channel), campaign))
