"""Test Runs: a rule's action run once with typed placeholder values, read back by id."""
from flask_login import current_user
from flask_smorest import abort
from marshmallow import Schema, fields

from ..access import may_manage_scope_of
from ..extensions import db
from ..models import ActionType, DeliveryStatus, Level, LogAccess, TestRun, Trigger
from . import blueprint, fails_with
from .fields import Integer

bp = blueprint("/test-runs", "Test Runs of tracking rules (started with POST "
               "/tracking-rules/{id}/test-run): never events nor deliveries. Each caller sees "
               "the runs of the levels and scopes they manage.")


class TestRunValuesSchema(Schema):
    values = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                         metadata={"description": "Placeholder values by name, e.g. "
                                                  "{\"email\": \"jane@example.com\"}; the others "
                                                  "take realistic sample values."})


class TestRunSchema(Schema):
    id = Integer()
    rule_id = Integer(allow_none=True, metadata={"description": "null once the rule is "
                                                               "deleted."})
    level = fields.Enum(Level, by_value=True)
    scope_id = Integer(allow_none=True)
    trigger = fields.Enum(Trigger, by_value=True)
    action = fields.Enum(ActionType, by_value=True)
    status = fields.Enum(DeliveryStatus, by_value=True, metadata={
        "description": "pending until a worker has run it, then succeeded or failed."})
    values = fields.Dict(metadata={"description": "Every placeholder value the run used."})
    created_at = fields.DateTime()


class TestRunDetailSchema(TestRunSchema):
    request = fields.Dict(metadata={"description": "What was sent, secrets masked; for Add/Remove "
                                                   "actions what would be changed (dry_run)."})
    response_status = Integer(allow_none=True, metadata={
        "description": "The HTTP status or SMTP reply code, if an answer came."})
    response_headers = fields.Dict()
    response_body = fields.String(metadata={
        "description": "The first 4 KB of the response body, the SMTP server's reply, or for "
                       "Add/Remove actions the sentence saying what would change."})
    error = fields.String(metadata={"description": "Why it failed, if it did."})
    duration_ms = Integer()
    completed_at = fields.DateTime(allow_none=True)


@bp.route("/<int:run_id>", methods=["GET"])
@fails_with(bp, 404)
@bp.response(200, TestRunDetailSchema)
def show(run_id):
    """One Test Run with its result once a worker has run it; each read is recorded as a log
    access."""
    run = db.session.get(TestRun, run_id)
    if run is None or not may_manage_scope_of(current_user, run):
        abort(404, message="No such test run.")
    LogAccess.record(current_user, test_run_id=run.id)
    return run
