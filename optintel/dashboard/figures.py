"""The home page's figures, of what the user may see: contacts added and deleted, deliveries by
status and their failure rate, the rules that are failing or paused, the latest events. Each
is read from the daily or hourly counts or a short walk of an index, so that the page stays
fast with millions of deliveries."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..access import (managed_scopes, seen_events, visible_contact_events_query,
                      visible_rules_query)
from ..extensions import db
from ..logs.presenting import scope_names, tracking_label
from ..models import (Channel, DeliveryCount, DeliveryStatus, Event, EventCount, RuleStatus,
                      TrackingRule, Trigger)
from ..tracking_log.chart import Chart, from_counts
from ..tracking_log.filters import start_of
from ..tracking_log.masking import mask_contact

WEEK_DAYS = 7
# "Failing": failed deliveries among those created in the last hours.
RECENT_HOURS = 24
LATEST_EVENTS = 8
TROUBLED_RULES = 10


@dataclass
class Period:
    """Today and the last seven days (today included), in whole UTC days as the log filters."""

    today: object  # date
    week_from: object  # date

    @classmethod
    def ending(cls, now):
        return cls(now.date(), now.date() - timedelta(days=WEEK_DAYS - 1))

    @property
    def yesterday(self):
        return self.today - timedelta(days=1)


@dataclass
class ContactFigure:
    channel: Channel
    trigger: Trigger
    today: int
    week: int


def contact_changes(user, period):
    """[ContactFigure] of the contacts added and deleted on each channel, zeros included."""
    table = EventCount.__table__
    today = sa.func.sum(sa.case((table.c.day == start_of(period.today), table.c.count), else_=0))
    rows = db.session.execute(
        sa.select(table.c.channel, table.c.trigger, today, sa.func.sum(table.c.count))
        .where(table.c.day >= start_of(period.week_from),
               seen_events(user, table.c.list_id, table.c.campaign_id))
        .group_by(table.c.channel, table.c.trigger))
    found = {(Channel(c), Trigger(t)): (int(a or 0), int(w or 0)) for c, t, a, w in rows}
    return [ContactFigure(channel, trigger, *found.get((channel, trigger), (0, 0)))
            for channel in Channel for trigger in Trigger.contact_triggers()]


@dataclass
class DeliveryFigures:
    by_status: dict  # {DeliveryStatus: count}, every status
    chart: Chart  # per hour, yesterday and today

    @property
    def total(self):
        return sum(self.by_status.values())

    @property
    def failure_rate(self):
        """Failed among the settled (succeeded or failed) deliveries, in %; None without any."""
        failed = self.by_status[DeliveryStatus.FAILED]
        settled = failed + self.by_status[DeliveryStatus.SUCCEEDED]
        return 100 * failed / settled if settled else None


def deliveries(user, period):
    """The deliveries of the period by their status now, and their chart per hour since
    yesterday: one read of the hourly counts."""
    table = DeliveryCount.__table__
    rows = db.session.execute(
        sa.select(table.c.hour, table.c.status, sa.func.sum(table.c.count))
        .where(table.c.hour >= start_of(period.week_from),
               managed_scopes(user, table.c.level, table.c.scope_id))
        .group_by(table.c.hour, table.c.status))
    by_status, hourly = {status: 0 for status in DeliveryStatus}, []
    for hour, status, count in rows:
        by_status[DeliveryStatus(status)] += int(count or 0)
        hourly.append((hour, DeliveryStatus(status), int(count or 0)))
    first, last = start_of(period.yesterday), start_of(period.today) + timedelta(days=1)
    return DeliveryFigures(by_status, from_counts(
        first, last, [row for row in hourly if row[0] >= first]))


@dataclass
class TroubledRule:
    rule: TrackingRule
    tracking: str  # its level, and the name of its campaign or list
    failing: str = ""  # how many of its deliveries failed lately; a paused rule shows its pause


def troubled_rules(user, now):
    """The rules that are paused, then those failing, most failures first."""
    paused = paused_rules(user)
    shown = {rule.id for rule in paused}
    rows = [(rule, "") for rule in paused] + [
        (rule, failing) for rule, failing in failing_rules(user, now) if rule.id not in shown]
    names = scope_names([(rule.level, rule.scope_id) for rule, _ in rows])
    return [TroubledRule(rule, tracking_label(rule.level, rule.scope_id, names), failing)
            for rule, failing in rows]


def paused_rules(user):
    """The rules the user may see that the workers paused, most recently paused first."""
    return db.session.scalars(
        visible_rules_query(user).where(TrackingRule.status == RuleStatus.PAUSED)
        .order_by(TrackingRule.paused_at.desc()).limit(TROUBLED_RULES)).all()


def failing_rules(user, now):
    """[(rule, how many failed)] of the rules with failed deliveries among those created in the
    last RECENT_HOURS."""
    table = DeliveryCount.__table__
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=RECENT_HOURS - 1)
    failed = sa.func.sum(table.c.count)
    rows = db.session.execute(
        sa.select(table.c.rule_id, failed)
        .where(table.c.status == DeliveryStatus.FAILED, table.c.hour >= since,
               table.c.rule_id.is_not(None), managed_scopes(user, table.c.level, table.c.scope_id))
        .group_by(table.c.rule_id).having(failed > 0).order_by(failed.desc(), table.c.rule_id)
        .limit(TROUBLED_RULES)).all()
    rules = {rule.id: rule for rule in db.session.scalars(
        sa.select(TrackingRule).where(TrackingRule.id.in_([rule_id for rule_id, _ in rows])))}
    return [(rules[rule_id], f"{count:,} failed in the last {RECENT_HOURS} hours")
            for rule_id, count in rows if rule_id in rules]


# An MD5-only list's contact is shown by the start of its MD5.
MD5_SHOWN = 10


@dataclass
class LatestEvent:
    event: Event
    contact: str  # masked: the home page shows no contact in clear


def latest_events(user):
    """The newest contact events the user may see."""
    query = visible_contact_events_query(user)
    events = db.session.scalars(query.order_by(Event.id.desc()).limit(LATEST_EVENTS)
                                .options(selectinload(Event.opt_out_list)))
    return [LatestEvent(event, mask_contact(event.contact, event.contact_md5[:MD5_SHOWN] + "…"))
            for event in events]
