"""The rules table of a Tracking tab and the two steps of its Add Rule pop-up, for the five
levels; every check of a rule is in rules/validation.py."""
from flask import abort, request
from flask_login import current_user

from .. import actions
from ..access import may_manage, scope_of
from ..deliveries import release
from ..extensions import db
from ..guards import guard_blueprint
from ..ids import to_id
from ..models import Level, RuleStatus, TrackingRule
from ..rendering import render, triggers
from ..rules.storage import masked_settings
from ..rules.validation import save_rule
from ..validation import Invalid
from . import bp
from .forms import StepOneForm, form_to_rule_data, show_errors, step_two_form
from .panel import panel_context

LEVEL = "/<any(project, email_campaign, sms_campaign, email_list, phone_list):level>/<int:scope_id>"
RULES = LEVEL + "/rules"

guard_blueprint(bp)


def scope_or_404(level, scope_id):
    """(Level, scope) of the URL if the user may manage its rules; 403/404 otherwise."""
    level = Level(level)
    scope = scope_of(level, scope_id)
    if level != Level.PROJECT and scope is None:
        abort(404)
    if not may_manage(current_user, level, scope):
        abort(403 if level == Level.PROJECT else 404)
    return level, scope


def rule_or_404(level, scope, rule_id):
    rule = db.session.get(TrackingRule, rule_id)
    if rule is None or rule.level != level or rule.scope_id != (scope.id if scope else None):
        abort(404)
    return rule


def _panel(level, scope, adjacent_to=None):
    return render("tracking/_panel.html", **panel_context(level, scope, adjacent_to))


def _closed_dialog(message):
    """Empty the dialog, tell the page that rules changed and what happened."""
    return "", 200, triggers(message, rulesChanged=None, closeModal=None)


@bp.route(RULES)
def panel(level, scope_id):
    level, scope = scope_or_404(level, scope_id)
    return _panel(level, scope, request.args.get("adjacent_to", type=to_id))


@bp.route(RULES + "/new")
def new_rule(level, scope_id):
    level, scope = scope_or_404(level, scope_id)
    return render("tracking/_step_one.html", form=StepOneForm(level), level=level,
                  scope_id=scope_id, carried={})


@bp.route(RULES + "/new/back", methods=["POST"])
def new_rule_back(level, scope_id):
    """Back to step 1, carrying what was typed in step 2 for the next Next."""
    level, scope = scope_or_404(level, scope_id)
    carried = {k: request.form.getlist(k) for k in request.form
               if k not in ("csrf_token", "trigger", "action")}
    return render("tracking/_step_one.html", form=StepOneForm(level), level=level,
                  scope_id=scope_id, carried=carried)


@bp.route(RULES + "/new/next", methods=["POST"])
def new_rule_next(level, scope_id):
    level, scope = scope_or_404(level, scope_id)
    step_one = StepOneForm(level)
    if not step_one.validate():
        return render("tracking/_step_one.html", form=step_one, level=level, scope_id=scope_id,
                      carried={})
    form = step_two_form(level, step_one.trigger.data, step_one.action.data, scope, current_user)
    return render("tracking/_step_two.html", form=form, level=level, scope_id=scope_id, rule=None)


@bp.route(RULES, methods=["POST"])
def create_rule(level, scope_id):
    level, scope = scope_or_404(level, scope_id)
    return _save(TrackingRule(), level, scope, {"level": level, "scope_id": scope and scope.id})


@bp.route(RULES + "/<int:rule_id>/edit")
def edit_rule(level, scope_id, rule_id):
    level, scope = scope_or_404(level, scope_id)
    rule = rule_or_404(level, scope, rule_id)
    data = {**actions.get(rule.action).form_data(masked_settings(rule)), **rule.trigger_settings,
            "trigger": rule.trigger.value, "action": rule.action.value}
    form = step_two_form(level, rule.trigger, rule.action, scope, current_user, data=data)
    return render("tracking/_step_two.html", form=form, level=level, scope_id=scope_id, rule=rule)


@bp.route(RULES + "/<int:rule_id>", methods=["POST"])
def update_rule(level, scope_id, rule_id):
    level, scope = scope_or_404(level, scope_id)
    return _save(rule_or_404(level, scope, rule_id), level, scope, {})


def _save(rule, level, scope, extra):
    """Step 2's Save: the rule is saved and the dialog closes, or the dialog shows the errors."""
    form = step_two_form(level, request.form.get("trigger") or rule.trigger,
                         request.form.get("action") or rule.action, scope, current_user)
    created = rule.id is None
    if form.validate():
        try:
            save_rule(rule, {**form_to_rule_data(form, level), **extra}, current_user)
        except Invalid as exc:
            show_errors(form, exc.fields)
        else:
            db.session.add(rule)
            db.session.commit()
            return _closed_dialog(f"Rule #{rule.id} {'added' if created else 'saved'}.")
    db.session.rollback()
    return render("tracking/_step_two.html", form=form, level=level,
                  scope_id=scope.id if scope else 0, rule=rule if rule.id else None)


@bp.route(RULES + "/<int:rule_id>/toggle", methods=["POST"])
def toggle_rule(level, scope_id, rule_id):
    level, scope = scope_or_404(level, scope_id)
    rule = rule_or_404(level, scope, rule_id)
    was = rule.status
    rule.status = RuleStatus.DISABLED if rule.is_active else RuleStatus.ACTIVE
    rule.updated_by = current_user
    release.commit_change(rule, was, current_user)
    return _panel(level, scope), triggers(
        f"Rule #{rule.id} {'enabled' if rule.is_active else 'disabled'}.")


@bp.route(RULES + "/<int:rule_id>/delete", methods=["POST"])
def delete_rule(level, scope_id, rule_id):
    level, scope = scope_or_404(level, scope_id)
    rule = rule_or_404(level, scope, rule_id)
    release.delete_rule(rule)
    return _panel(level, scope), triggers(f"Rule #{rule_id} deleted.")
