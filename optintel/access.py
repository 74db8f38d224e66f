"""Who may see and change what (SPEC §2). Shared by the pages and the API."""
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from .extensions import db
from .models import Campaign, Event, OptOutList, Role, campaign_lists, list_members


def require_roles(*roles):
    """View decorator: 403 unless the logged-in user has one of the roles."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


admin_only = require_roles(Role.GLOBAL_ADMIN)


def visible_lists_query(user, channel=None):
    """SELECT of the opt-out lists the user may open: all for admins, their own for owners."""
    query = sa.select(OptOutList)
    if channel is not None:
        query = query.where(OptOutList.channel == channel)
    if user.role == Role.GLOBAL_ADMIN:
        return query
    if user.role == Role.LIST_OWNER:
        return query.where(OptOutList.owner_id == user.id)
    return query.where(sa.false())


def visible_campaigns_query(user, channel=None):
    """SELECT of the campaigns the user may open: all for admins, their own for managers."""
    query = sa.select(Campaign)
    if channel is not None:
        query = query.where(Campaign.channel == channel)
    if user.role == Role.GLOBAL_ADMIN:
        return query
    if user.role == Role.CAMPAIGN_MANAGER:
        return query.where(Campaign.manager_id == user.id)
    return query.where(sa.false())


def _with_members(list_ids):
    """The lists and, for Grouped ones, their Single lists: a group's events are its lists'."""
    return sa.union(list_ids, sa.select(list_members.c.member_id)
                    .where(list_members.c.group_id.in_(list_ids)))


def visible_events_query(user):
    """SELECT of the events the user may see: all for admins; for List Owners, those of their
    lists; for Campaign Managers, those of their campaigns or of their campaigns' lists."""
    query = sa.select(Event)
    if user.role == Role.GLOBAL_ADMIN:
        return query
    if user.role == Role.LIST_OWNER:
        own = sa.select(OptOutList.id).where(OptOutList.owner_id == user.id)
        return query.where(Event.list_id.in_(_with_members(own)))
    if user.role == Role.CAMPAIGN_MANAGER:
        managed = sa.select(Campaign.id).where(Campaign.manager_id == user.id)
        scrubbed = (sa.select(campaign_lists.c.list_id)
                    .where(campaign_lists.c.campaign_id.in_(managed)))
        return query.where(sa.or_(Event.campaign_id.in_(managed),
                                  Event.list_id.in_(_with_members(scrubbed))))
    return query.where(sa.false())


def can_open_list(user, opt_out_list):
    return user.is_admin or (user.role == Role.LIST_OWNER and opt_out_list.owner_id == user.id)


def can_open_campaign(user, campaign):
    return user.is_admin or (user.role == Role.CAMPAIGN_MANAGER and campaign.manager_id == user.id)


def get_list_or_404(list_id, channel, user):
    """The list if it exists, is of the channel and the user may open it; 404 otherwise.

    404 rather than 403 for another owner's list, so that existence does not leak."""
    opt_out_list = db.session.get(OptOutList, list_id)
    if opt_out_list is None or opt_out_list.channel != channel or not can_open_list(user, opt_out_list):
        abort(404)
    return opt_out_list


def get_campaign_or_404(campaign_id, channel, user):
    """The campaign if it exists, is of the channel and the user may open it; 404 otherwise."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.channel != channel or not can_open_campaign(user, campaign):
        abort(404)
    return campaign
