"""The Test Run pop-up of a rule: its placeholder values, Confirm, then the result as the workers
record it."""
from flask import abort, request
from flask_login import current_user

from .. import rule_test_runs
from ..extensions import db
from ..models import TestRun
from ..rendering import render
from . import bp
from .routes import LEVEL, RULES, rule_or_404, scope_or_404


def _result(run, level, scope_id):
    return render("tracking/_test_run_result.html", run=run, level=level, scope_id=scope_id)


@bp.route(RULES + "/<int:rule_id>/test-run")
def run_dialog(level, scope_id, rule_id):
    level, scope = scope_or_404(level, scope_id)
    rule = rule_or_404(level, scope, rule_id)
    return render("tracking/_test_run.html", rule=rule, level=level, scope_id=scope_id,
                  fields=rule_test_runs.fields_of(rule))


@bp.route(RULES + "/<int:rule_id>/test-run", methods=["POST"])
def start_run(level, scope_id, rule_id):
    """Confirm: the run is handed to the workers and the pop-up polls for its result."""
    level, scope = scope_or_404(level, scope_id)
    rule = rule_or_404(level, scope, rule_id)
    typed = {name: request.form.get(name, sample)
             for name, sample in rule_test_runs.fields_of(rule)}
    return _result(rule_test_runs.start(rule, typed, current_user), level, scope_id)


@bp.route(LEVEL + "/test-runs/<int:run_id>")
def run_result(level, scope_id, run_id):
    """The result region of the pop-up; it polls itself while the run is pending."""
    level, scope = scope_or_404(level, scope_id)
    run = db.session.get(TestRun, run_id)
    if run is None or run.level != level or run.scope_id != (scope.id if scope else None):
        abort(404)
    return _result(run, level, scope_id)
