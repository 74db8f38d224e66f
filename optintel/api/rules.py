"""Tracking rules: listed, created, changed and deleted by whoever manages their level and scope."""
from flask_login import current_user
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from .. import actions, rule_test_runs
from ..access import visible_rule, visible_rules_query
from ..deliveries import release
from ..extensions import db
from ..models import ActionType, Level, RuleStatus, TrackingRule, Trigger
from ..rules.presenting import rule_json, with_adjacent
from ..rules.validation import save_rule
from . import blueprint, fails_with
from .fields import IdList, Integer
from .rule_test_runs import TestRunSchema, TestRunValuesSchema

bp = blueprint("/tracking-rules", "Tracking rules: when a contact is added or deleted (or, at "
               "Project level, a rule is paused or resumed, or a delivery fails for good), do "
               "an action.")

ACTION_SETTINGS = (
    "Depends on the action. "
    + " ".join(f"{key.value}: {action.settings_doc}." for key, action in actions.REGISTRY.items())
    + " Text fields may use {{placeholders}}. Secrets (password, signing_secret, the values of "
    "secret_headers, a URL's userinfo and credential-like query parameters, webhook_url) are "
    "answered as \"********\". Sending \"********\" back keeps the stored value while the "
    "target stays the same (a Ping URL's scheme, host and port; an SMTP connection's host, port, "
    "security and username); with a changed target it is refused (422, \"The target changed: "
    "type the secret again.\"): type the secret again, or leave it out to drop it.")


def _one_of(enum):
    return validate.OneOf([m.value for m in enum])


STATUS = ("active or disabled. A rule whose deliveries keep failing is paused by the workers "
          "(status paused, see paused_reason): its deliveries are held; set active to resume it "
          "and release them, oldest first. paused cannot be set, only kept (422 otherwise).")
TRIGGER = ("contact_added or contact_deleted; at Project level also rule_paused, rule_resumed "
           "and delivery_failed (meta events: no trigger settings, no Add/Remove actions, "
           "their own placeholders).")


class TriggerSettingsSchema(Schema):
    contact_list_ids = IdList(metadata={
        "description": "Project level only. Empty: any list."})
    mailer_ids = IdList(metadata={
        "description": "Project and campaign levels. Empty: any mailer."})


class RuleChangesSchema(Schema):
    """The fields to change; the others keep their values."""

    trigger = fields.String(validate=_one_of(Trigger), metadata={"description": TRIGGER})
    action = fields.String(validate=_one_of(ActionType), metadata={
        "description": "Changing the action needs its action_settings too."})
    trigger_settings = fields.Nested(TriggerSettingsSchema)
    action_settings = fields.Dict(metadata={"description": ACTION_SETTINGS})
    status = fields.String(validate=_one_of(RuleStatus), metadata={"description": STATUS})


class NewRuleSchema(RuleChangesSchema):
    level = fields.String(required=True, validate=_one_of(Level))
    scope_id = Integer(allow_none=True, load_default=None, metadata={
        "description": "The campaign or list id; null for the project level."})
    trigger = fields.String(required=True, validate=_one_of(Trigger),
                            metadata={"description": TRIGGER})
    action = fields.String(required=True, validate=_one_of(ActionType))
    trigger_settings = fields.Nested(TriggerSettingsSchema, load_default=dict)
    action_settings = fields.Dict(required=True, metadata={"description": ACTION_SETTINGS})
    status = fields.String(validate=_one_of(RuleStatus), load_default=RuleStatus.ACTIVE.value,
                           metadata={"description": STATUS})


class RuleSchema(NewRuleSchema):
    id = Integer()
    author = fields.String(allow_none=True, metadata={"description": "Email of who created it."})
    created_at = fields.String()
    updated_at = fields.String()
    adjacent_rule_ids = fields.List(Integer(), metadata={
        "description": "Other active rules that would fire on a same event."})
    status = fields.String(validate=_one_of(RuleStatus), metadata={
        "description": "active, disabled, or paused: its deliveries kept failing, they are held "
                       "until it is set active again."})
    paused_reason = fields.String(metadata={
        "description": "Why the rule was paused; emptied when it resumes (a paused rule set "
                       "disabled keeps it, and its deliveries stay held until it is active)."})
    paused_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC."})
    consecutive_failures = Integer(metadata={
        "description": "Failed attempts of its deliveries in a row; a success starts again. "
                       "Project Settings' thresholds pause it."})
    last_error = fields.String(metadata={
        "description": "What its target said when an attempt last failed (the status and the "
                       "start of the answer, or the error), contacts masked."})


class RuleFilterSchema(Schema):
    level = fields.String(validate=_one_of(Level))
    scope_id = Integer()
    trigger = fields.String(validate=_one_of(Trigger))
    action = fields.String(validate=_one_of(ActionType))
    status = fields.String(validate=_one_of(RuleStatus))


def _visible_rule(rule_id):
    return visible_rule(current_user, rule_id) or abort(404, message="No such tracking rule.")


def _save(rule, data):
    was = rule.status
    try:
        save_rule(rule, data, current_user)
    except PermissionError as exc:
        abort(403, message=str(exc))
    db.session.add(rule)
    release.commit_change(rule, was, current_user)
    return rule_json(*with_adjacent([rule])[0])


@bp.route("", methods=["GET"])
@fails_with(bp, 422)
@bp.arguments(RuleFilterSchema, location="query")
@bp.response(200, RuleSchema(many=True))
def index(filters):
    """The rules you may manage, oldest first, filtered by level, scope, trigger, action, status."""
    query = visible_rules_query(current_user)
    for name, value in filters.items():
        query = query.where(getattr(TrackingRule, name) == value)
    rules = db.session.scalars(query.order_by(TrackingRule.id)).all()
    return [rule_json(rule, adjacent) for rule, adjacent in with_adjacent(rules)]


@bp.route("", methods=["POST"])
@fails_with(bp, 400, 403, 422)
@bp.arguments(NewRuleSchema)
@bp.response(201, RuleSchema)
def create(data):
    """Create a rule at a level and scope you manage."""
    return _save(TrackingRule(), data)


@bp.route("/<int:rule_id>", methods=["GET"])
@fails_with(bp, 404)
@bp.response(200, RuleSchema)
def show(rule_id):
    """One rule."""
    return rule_json(*with_adjacent([_visible_rule(rule_id)])[0])


@bp.route("/<int:rule_id>", methods=["PATCH"])
@fails_with(bp, 400, 404, 422)
@bp.arguments(RuleChangesSchema)
@bp.response(200, RuleSchema)
def update(changes, rule_id):
    """Change some fields of a rule; level and scope stay. `"status": "active"` resumes a paused
    rule: its held deliveries go to the workers, oldest first."""
    return _save(_visible_rule(rule_id), changes)


@bp.route("/<int:rule_id>", methods=["DELETE"])
@fails_with(bp, 404)
@bp.response(204)
def delete(rule_id):
    """Delete a rule; its held deliveries, if it was paused, are skipped."""
    rule = _visible_rule(rule_id)
    release.delete_rule(rule)


@bp.route("/<int:rule_id>/test-run", methods=["POST"])
@fails_with(bp, 404, 422)
@bp.arguments(TestRunValuesSchema)
@bp.response(202, TestRunSchema)
def test_run(data, rule_id):
    """Run the rule's action once, for real, through the workers, with these placeholder values
    (Add/Remove actions only say what they would change); read the result at
    /test-runs/{id}. Never an event nor a delivery."""
    return rule_test_runs.start(_visible_rule(rule_id), data["values"], current_user)
