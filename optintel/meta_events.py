"""Meta events: a rule paused, a rule resumed, a delivery failed for good. Each is an event of the
events table, about no contact, written in the transaction of what it records and handed to the
dispatcher after the commit as contact events are, so that Project rules act on it. A meta event
deeper than OPTINTEL_MAX_CHAIN_DEPTH (a rule acting on its own failures) is left out."""
import logging

import sqlalchemy as sa
from flask import current_app

from . import actions
from .access import scope_of
from .events import outbox
from .extensions import db
from .models import Event, Level, Trigger

log = logging.getLogger(__name__)
# What a Delivery Failed event copies of the failed delivery's event (never the plain contact).
COPIED = ("channel", "list_id", "contact_md5", "mailer_id", "campaign_id")


def scope_label(rule):
    """'Project', or the level and the name of the rule's campaign or list."""
    if rule.level == Level.PROJECT:
        return rule.level.label
    scope = scope_of(rule.level, rule.scope_id)
    name = f"{scope.name} (#{scope.id})" if scope else f"#{rule.scope_id} (deleted)"
    return f"{rule.level.label}: {name}"


def _record(trigger, rule, now, reason, last_error="", cause=None, delivery_id=None,
            copied=None):
    depth = cause["depth"] + 1 if cause else 0
    limit = current_app.config["OPTINTEL_MAX_CHAIN_DEPTH"]
    if depth > limit:
        log.info("%s event left out: the chain of events is %d deep, the limit is %d (rule %s)",
                 trigger.label, depth, limit, rule.id)
        return None
    details = {"subject_rule_level": rule.level.label, "subject_rule_scope": scope_label(rule),
               "subject_rule_action": actions.get(rule.action).label, "reason": reason,
               "last_error": last_error}
    row = {"trigger": trigger, "occurred_at": now, "depth": depth,
           "caused_by_event_id": cause["id"] if cause else None, "subject_rule_id": rule.id,
           "subject_delivery_id": delivery_id, "details": details,
           **{name: (copied or {}).get(name) for name in COPIED}}
    table = Event.__table__
    return db.session.scalar(sa.insert(table).returning(table.c.id), row)


def rule_paused(rule, reason, last_error, cause, now):
    """Record that the rule was paused, caused by the failure of a delivery of the event
    `cause` (a mapping of the events table); returns the event id, or None."""
    return _record(Trigger.RULE_PAUSED, rule, now, reason, last_error, cause)


def rule_resumed(rule, reason, now):
    """Record that the paused rule resumed (someone enabled it, or a Test Run succeeded)."""
    return _record(Trigger.RULE_RESUMED, rule, now, reason)


def delivery_failed(rule, delivery_id, attempts, last_error, cause, now):
    """Record that a delivery of the rule failed for good, for the event `cause`."""
    reason = f"It failed for good after {attempts} attempt{'s' if attempts != 1 else ''}."
    return _record(Trigger.DELIVERY_FAILED, rule, now, reason, last_error, cause, delivery_id,
                   cause)


def hand_off(event_ids):
    """Hand the committed meta events to the dispatcher (those not recorded are None)."""
    return outbox.hand_off([event_id for event_id in event_ids if event_id is not None])
