"""Who may see and change what (SPEC §2): every rule of the role model, for the pages, the API
and the workers alike. No Flask here: the view guards that apply these rules are in guards.py.

Global Admins may do everything. Campaign Managers manage their campaigns and the rules of
those; List Owners their lists, their contacts and the rules of those. What someone may not
open reads as missing."""
import sqlalchemy as sa

from .extensions import db
from .models import (Campaign, Delivery, Event, Level, Mailer, OptOutList, Role, TestRun,
                     TrackingRule, Trigger, campaign_lists, campaign_mailers, list_members)

# The areas of the dashboard and the roles that open them; the others get 403.
AREAS = {
    "campaigns": (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER),
    "lists": (Role.GLOBAL_ADMIN, Role.LIST_OWNER),
    "mailers": (Role.GLOBAL_ADMIN,),
    "users": (Role.GLOBAL_ADMIN,),
    "api_keys": (Role.GLOBAL_ADMIN,),
    "settings": (Role.GLOBAL_ADMIN,),
    "log_access": (Role.GLOBAL_ADMIN,),
}
# Who reads mailers through the API (managers pick them for their campaigns).
MAILER_READERS = (Role.GLOBAL_ADMIN, Role.CAMPAIGN_MANAGER)
# What only a Global Admin changes: who holds a campaign or a list, which lists a campaign reads
# (a manager who could add any list would read its events), and a Grouped list's members.
ADMIN_ONLY_CAMPAIGN_FIELDS = ("manager_id", "list_ids")
ADMIN_ONLY_LIST_FIELDS = ("owner_id", "members")


def may_open(user, area):
    """Whether the user's role opens that area of the dashboard."""
    return user.role in AREAS[area]


# Lists and campaigns ------------------------------------------------------------------------

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


def can_open_list(user, opt_out_list):
    return user.is_admin or (user.role == Role.LIST_OWNER and opt_out_list.owner_id == user.id)


def can_open_campaign(user, campaign):
    return user.is_admin or (user.role == Role.CAMPAIGN_MANAGER and campaign.manager_id == user.id)


def lists_in_clear(user, list_ids):
    """The ids among these lists whose contacts the user sees in clear: all for Global Admins,
    their own for the others; everyone else sees contacts masked."""
    list_ids = set(list_ids)
    if user.is_admin or not list_ids:
        return list_ids
    return set(db.session.scalars(sa.select(OptOutList.id).where(
        OptOutList.id.in_(list_ids), OptOutList.owner_id == user.id)))


def list_for(user, list_id, channel):
    """The list if it exists, is of the channel and the user may open it; None otherwise."""
    opt_out_list = db.session.get(OptOutList, list_id)
    if opt_out_list is None or opt_out_list.channel != channel or \
            not can_open_list(user, opt_out_list):
        return None
    return opt_out_list


def campaign_for(user, campaign_id, channel):
    """The campaign if it exists, is of the channel and the user may open it; None otherwise."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.channel != channel or not can_open_campaign(user, campaign):
        return None
    return campaign


# What a contact may be attributed to --------------------------------------------------------

def campaigns_using_list_query(opt_out_list):
    """SELECT of the campaigns of the list's channel scrubbed against it, directly or through a
    Grouped list that holds it: the campaigns its contacts may be attributed to."""
    groups = sa.select(list_members.c.group_id).where(list_members.c.member_id == opt_out_list.id)
    using = sa.select(campaign_lists.c.campaign_id).where(sa.or_(
        campaign_lists.c.list_id == opt_out_list.id, campaign_lists.c.list_id.in_(groups)))
    return sa.select(Campaign).where(Campaign.id.in_(using),
                                     Campaign.channel == opt_out_list.channel)


def attributable_mailers_query(user, opt_out_list, campaign=None):
    """SELECT of the mailers a contact of the list may be attributed to: the campaign's mailers
    when a campaign is named; otherwise any mailer for those who may read mailers (and the
    command line, user None), the mailers of the campaigns using the list for the others."""
    if campaign is not None:
        return sa.select(Mailer).where(Mailer.id.in_(
            sa.select(campaign_mailers.c.mailer_id)
            .where(campaign_mailers.c.campaign_id == campaign.id)))
    if user is None or user.role in MAILER_READERS:
        return sa.select(Mailer)
    using = campaigns_using_list_query(opt_out_list).with_only_columns(Campaign.id)
    return sa.select(Mailer).where(Mailer.id.in_(
        sa.select(campaign_mailers.c.mailer_id).where(campaign_mailers.c.campaign_id.in_(using))))


# Events ------------------------------------------------------------------------------------

def _with_members(list_ids):
    """The lists and, for Grouped ones, their Single lists: a group's events are its lists'."""
    return sa.union(list_ids, sa.select(list_members.c.member_id)
                    .where(list_members.c.group_id.in_(list_ids)))


def _managed_campaign_ids(user):
    return sa.select(Campaign.id).where(Campaign.manager_id == user.id)


def _owned_list_ids(user):
    return sa.select(OptOutList.id).where(OptOutList.owner_id == user.id)


def _scrubbed_list_ids(user):
    """The lists of the campaigns a Campaign Manager manages, Grouped ones with their members."""
    return _with_members(sa.select(campaign_lists.c.list_id)
                         .where(campaign_lists.c.campaign_id.in_(_managed_campaign_ids(user))))


def visible_contact_events_query(user):
    """SELECT of the contact events the user may see: all for admins; for List Owners, those of
    their lists; for Campaign Managers, those of their campaigns or of their campaigns' lists.
    Meta events (a rule paused, resumed, a delivery failed) are not among them: the Tracking Log
    shows them as their rules' deliveries."""
    return sa.select(Event).where(Event.trigger.in_(Trigger.contact_triggers()),
                                  seen_events(user, Event.list_id, Event.campaign_id))


def seen_events(user, list_column, campaign_column):
    """The SQL condition of visible_contact_events_query on who sees what, for any table that
    records events' lists and campaigns (events, their hourly counts)."""
    if user.role == Role.GLOBAL_ADMIN:
        return sa.true()
    if user.role == Role.LIST_OWNER:
        return list_column.in_(_with_members(_owned_list_ids(user)))
    if user.role == Role.CAMPAIGN_MANAGER:
        return sa.or_(campaign_column.in_(_managed_campaign_ids(user)),
                      list_column.in_(_scrubbed_list_ids(user)))
    return sa.false()


# Rules and what they did -------------------------------------------------------------------

def scope_of(level, scope_id):
    """The campaign or list a rule of the level is configured on; None for Project or unknown."""
    if level == Level.PROJECT:
        return None
    model = Campaign if level.is_campaign else OptOutList
    scope = db.session.get(model, scope_id) if isinstance(scope_id, int) else None
    return scope if scope is not None and scope.channel == level.channel else None


def may_manage(user, level, scope):
    """Whether the user may see and change rules of this level and scope (SPEC §2)."""
    if level == Level.PROJECT:
        return user.is_admin
    if scope is None:
        return False
    return can_open_campaign(user, scope) if level.is_campaign else can_open_list(user, scope)


def may_manage_scope_of(user, row):
    """Whether the user manages the level and scope a rule, delivery or test run records."""
    return may_manage(user, row.level, scope_of(row.level, row.scope_id))


def managed_scopes(user, level_column, scope_column):
    """The SQL condition 'a level and scope whose rules the user manages', for any table that
    records them (rules, deliveries, test runs, counts)."""
    if user.role == Role.GLOBAL_ADMIN:
        return sa.true()
    if user.role == Role.CAMPAIGN_MANAGER:
        owned, levels = _managed_campaign_ids(user), (Level.EMAIL_CAMPAIGN, Level.SMS_CAMPAIGN)
    else:
        owned, levels = _owned_list_ids(user), (Level.EMAIL_LIST, Level.PHONE_LIST)
    return sa.and_(level_column.in_(levels), scope_column.in_(owned))


def visible_rules_query(user):
    """SELECT of the rules the user may see: all for admins, their campaigns' or lists' rules."""
    return sa.select(TrackingRule).where(
        managed_scopes(user, TrackingRule.level, TrackingRule.scope_id))


def visible_deliveries_query(user):
    """SELECT of the deliveries the user may see: those of the levels and scopes whose rules
    they manage (also after a rule is deleted)."""
    return sa.select(Delivery).where(managed_scopes(user, Delivery.level, Delivery.scope_id))


def visible_test_runs_query(user):
    """SELECT of the Test Runs the user may see, by the same rule as deliveries."""
    return sa.select(TestRun).where(managed_scopes(user, TestRun.level, TestRun.scope_id))


def visible_rule(user, rule_id):
    """The rule if the user manages its level and scope; None otherwise."""
    rule = db.session.get(TrackingRule, rule_id)
    return rule if rule is not None and may_manage_scope_of(user, rule) else None


def referable_lists_query(user):
    """SELECT of the lists a rule of the user may change (the target of Add to / Remove from
    opt-out list): all for admins, their own for List Owners, their campaigns' lists for
    Campaign Managers."""
    if user.role == Role.CAMPAIGN_MANAGER:
        return sa.select(OptOutList).where(OptOutList.id.in_(_scrubbed_list_ids(user)))
    return visible_lists_query(user)


def may_reference_list(user, opt_out_list):
    """Whether a rule of the user may change the list; None (no user) may not."""
    if user is None:
        return False
    return db.session.scalar(referable_lists_query(user).with_only_columns(OptOutList.id)
                             .where(OptOutList.id == opt_out_list.id)) is not None


# What the Tracking Log's filters offer -----------------------------------------------------

def log_lists_query(user):
    """SELECT of the lists whose events the user's log rows may be about: a Campaign Manager's
    are the lists of their campaigns."""
    return referable_lists_query(user)


def log_mailers_query(user):
    """SELECT of the mailers the user may name: all for those who read mailers, for List
    Owners the mailers of the campaigns scrubbed against their lists."""
    if user.role in MAILER_READERS:
        return sa.select(Mailer)
    return sa.select(Mailer).where(Mailer.id.in_(
        sa.select(campaign_mailers.c.mailer_id).where(campaign_mailers.c.campaign_id.in_(
            log_campaigns_query(user).with_only_columns(Campaign.id)))))


def log_campaigns_query(user):
    """SELECT of the campaigns the user's log rows may be about: a List Owner's are the
    campaigns scrubbed against their lists."""
    if user.role == Role.LIST_OWNER:
        return sa.select(Campaign).where(Campaign.id.in_(
            sa.select(campaign_lists.c.campaign_id)
            .where(campaign_lists.c.list_id.in_(_owned_list_ids(user)))))
    return visible_campaigns_query(user)
