"""Validating a tracking rule with every check of SPEC §5–§6 and applying it, for step 2 of the
Add Rule pop-up, its Edit and the API alike."""
import sqlalchemy as sa

from .. import actions, placeholders
from ..access import may_manage, scope_of
from ..actions.base import RuleContext
from ..extensions import db
from ..ids import MAX_IDS, as_id
from ..models import ActionType, Level, Mailer, OptOutList, RuleStatus, Trigger
from ..validation import Collector, Invalid, some_of
from .storage import store_settings, stored_settings

TRIGGER_SETTINGS = {"contact_list_ids": OptOutList, "mailer_ids": Mailer}


def _enum(errors, field, enum, value):
    try:
        return enum(value)
    except ValueError:
        errors.add(field, f"Choose one of: {', '.join(m.value for m in enum)}.")


def _trigger_settings(errors, level, trigger, raw):
    names = level.trigger_settings_for(trigger)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.add("trigger_settings", "Give the trigger settings as an object.")
        return {}
    cleaned = {}
    for key, value in raw.items():
        field = f"trigger_settings.{key}"
        if key not in TRIGGER_SETTINGS:
            errors.add(field, "Not a trigger setting.")
            continue
        ids = value or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and as_id(i) is not None
                                                for i in ids):
            errors.add(field, "Give a list of ids.")
            continue
        if len(ids) > MAX_IDS:
            errors.add(field, f"At most {MAX_IDS:,} ids.")
            continue
        if ids and key not in names:
            errors.add(field, f"{trigger.label} has no trigger settings." if trigger.is_meta
                       else f"The {level.label} level has no such trigger setting.")
            continue
        model = TRIGGER_SETTINGS[key]
        found = set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids)))) if ids else set()
        missing = sorted(set(ids) - found)
        if missing:
            errors.add(field, f"No such {'list' if key == 'contact_list_ids' else 'mailer'}: "
                              f"{some_of(missing)}.")
        cleaned[key] = sorted(set(ids))
    return {key: cleaned.get(key, []) for key in names}


def _what_the_trigger_allows(errors, level, trigger, action_key):
    """Meta events are Project-level and about no contact: no Add/Remove action for them."""
    if trigger not in level.triggers:
        errors.add("trigger", f"Only Project rules act on {trigger.label}.")
    elif trigger.is_meta and actions.get(action_key).acts_on_contact:
        errors.add("action", f"{actions.get(action_key).label} acts on a contact: choose "
                             f"[Opt-Intel] Contact Added or Deleted.")


def _placeholders_of(errors, trigger, action, settings):
    """Refuse, beside their setting, the placeholders that the trigger's events give no value."""
    given = placeholders.names_for(trigger)
    for key, value in settings.items():
        for name in action.placeholders_used({key: value}):
            if name in placeholders.SAMPLES and name not in given:
                errors.add(f"action_settings.{key}",
                           f"{{{{{name}}}}} is not a placeholder of {trigger.label}.")


def save_rule(rule, data, user):
    """Validate `data` (the API's rule shape; absent keys keep the rule's values) and apply it.

    Raises Invalid with fields named as in the API (e.g. "action_settings.url"). The caller
    commits."""
    errors = Collector()
    is_new = rule.id is None
    level = _enum(errors, "level", Level, data.get("level", rule.level))
    scope_id = data.get("scope_id", rule.scope_id)
    if not is_new and (level != rule.level or scope_id != rule.scope_id):
        errors.add("level", "A rule stays at its level and scope; create a new rule instead.")
    scope = None
    if level is not None:
        scope = scope_of(level, scope_id)
        if level == Level.PROJECT and scope_id is not None:
            errors.add("scope_id", "Project rules have no scope; leave scope_id null.")
        elif level == Level.PROJECT and not user.is_admin:
            raise PermissionError("Only Global Admins manage Project rules.")
        elif level != Level.PROJECT and not may_manage(user, level, scope):
            # Someone else's campaign or list reads as missing: existence must not leak.
            errors.add("scope_id", f"No {level.label.lower()} with this id.")
    trigger = _enum(errors, "trigger", Trigger, data.get("trigger", rule.trigger))
    action_key = _enum(errors, "action", ActionType, data.get("action", rule.action))
    status = _enum(errors, "status", RuleStatus,
                   data.get("status", rule.status or RuleStatus.ACTIVE))
    if status is not None and status not in (*RuleStatus.settable_statuses(), rule.status):
        errors.add("status", "A rule is paused by its failing deliveries, not by hand; choose "
                             "active or disabled.")
    errors.raise_if_any()
    _what_the_trigger_allows(errors, level, trigger, action_key)
    errors.raise_if_any()

    trigger_settings = _trigger_settings(errors, level, trigger, data.get(
        "trigger_settings", rule.trigger_settings))
    action = actions.get(action_key)
    same_action = not is_new and action_key == rule.action
    stored = stored_settings(rule) if same_action else {}
    raw = data.get("action_settings", stored if same_action else None)
    if raw is None or not isinstance(raw, dict):
        errors.add("action_settings", "Give the action settings as an object.")
        errors.raise_if_any()
    try:
        settings = action.clean(raw, RuleContext(level, scope, user), stored)
    except Invalid as exc:
        for key, messages in exc.fields.items():
            for message in messages:
                errors.add(f"action_settings.{key}", message)
    else:
        _placeholders_of(errors, trigger, action, settings)
    errors.raise_if_any()

    rule.level, rule.scope_id, rule.trigger, rule.action = level, scope_id, trigger, action_key
    rule.trigger_settings, rule.status = trigger_settings, status
    store_settings(rule, settings)
    rule.host = action.host(settings)
    if is_new:
        rule.author = user
    rule.updated_by = user
    return rule
