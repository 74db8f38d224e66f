"""Rules as the Tracking tabs, the dashboard and the API show them: names instead of ids,
secrets masked, paused ones with their held deliveries."""
import sqlalchemy as sa

from .. import actions
from ..extensions import db
from ..models import Delivery, DeliveryStatus, Mailer, OptOutList, RuleStatus, TrackingRule
from .coverage import adjacent_rule_ids
from .storage import masked_settings


def active_rules():
    return db.session.scalars(sa.select(TrackingRule).where(TrackingRule.status == RuleStatus.ACTIVE)).all()


def with_adjacent(rules):
    """[(rule, [adjacent active rule ids])] for these rules."""
    adjacent = adjacent_rule_ids(rules, active_rules())
    return [(rule, adjacent[rule.id]) for rule in rules]


def held_counts(rules):
    """{rule id: how many of its deliveries are held} for the paused ones among these rules."""
    ids = [rule.id for rule in rules if rule.is_paused]
    if not ids:
        return {}
    found = dict(db.session.execute(
        sa.select(Delivery.rule_id, sa.func.count()).where(
            Delivery.rule_id.in_(ids), Delivery.status == DeliveryStatus.HELD)
        .group_by(Delivery.rule_id)).all())
    return {rule_id: found.get(rule_id, 0) for rule_id in ids}


def _names(model, ids, label):
    if not ids:
        return []
    rows = dict(db.session.execute(sa.select(model.id, label).where(model.id.in_(ids))).all())
    return [rows.get(i, f"#{i} (deleted)") for i in ids]


def trigger_settings_text(rule):
    """'Contacts List: A, B · Mailers: x' — empty filters read 'any'."""
    settings = rule.trigger_settings or {}
    parts = []
    if "contact_list_ids" in settings:
        names = _names(OptOutList, settings["contact_list_ids"], OptOutList.name)
        parts.append(f"Contacts List: {', '.join(names) or 'any'}")
    if "mailer_ids" in settings:
        names = _names(Mailer, settings["mailer_ids"], Mailer.nickname)
        parts.append(f"Mailers: {', '.join(names) or 'any'}")
    return " · ".join(parts) or "—"


def action_settings_text(rule, viewer=None):
    """The rule's action settings in a line, secrets masked, as the viewer may see them."""
    return actions.get(rule.action).summary(masked_settings(rule), viewer)


def rule_json(rule, adjacent):
    """The API's representation of a rule."""
    return {
        "id": rule.id, "level": rule.level.value, "scope_id": rule.scope_id,
        "trigger": rule.trigger.value, "action": rule.action.value,
        "trigger_settings": rule.trigger_settings, "action_settings": masked_settings(rule),
        "status": rule.status.value, "author": rule.author.email if rule.author else None,
        "created_at": rule.created_at.isoformat(), "updated_at": rule.updated_at.isoformat(),
        "adjacent_rule_ids": adjacent, "paused_reason": rule.paused_reason,
        "paused_at": rule.paused_at.isoformat() if rule.paused_at else None,
        "consecutive_failures": rule.consecutive_failures, "last_error": rule.last_error,
    }
