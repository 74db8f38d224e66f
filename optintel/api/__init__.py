"""The JSON REST API under /api/v1, documented at /api/v1/openapi.json."""
from datetime import timedelta
from http import HTTPStatus

from flask import g, request
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request

from .. import request_input
from ..contact_changes import ListNotWritable
from ..errors import api_error
from ..extensions import csrf, db
from ..models import ApiKey
from ..models.columns import utcnow
from ..validation import Invalid

PREFIX = "/api/v1"
LAST_USED_PRECISION = timedelta(minutes=1)


def authenticate():
    """API requests act as the owner of `Authorization: Bearer KEY`, never as a session cookie,
    so that CSRF cannot reach them."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    row = ApiKey.find(key.strip()) if scheme.lower() == "bearer" else None
    if row is None or not row.user.active:
        return api_error(401, "Send a valid API key as 'Authorization: Bearer KEY'.")
    now = utcnow()
    # A write on every call would cost each API request a transaction; a minute is precise enough.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        row.last_used_at = now
        db.session.commit()
    g._login_user = row.user  # Flask-Login's current_user for this request only
    return None


def invalid_fields(invalid):
    """422 with the domain's messages by field (the API's field names are the domain's)."""
    return api_error(422, "The request has invalid fields.", invalid.fields)


def list_not_writable(exc):
    """409: contacts go into the Single lists of a Grouped list, not into the group."""
    return api_error(409, str(exc))


class ApiParser(FlaskParser):
    """webargs' parser reading JSON bodies with request_input: too deep, NaN, a NUL or not JSON
    is a 400."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        try:
            return request_input.loads(data)
        except request_input.Refused as exc:
            abort(400, message=str(exc))


class ApiBlueprint(Blueprint):
    """A flask-smorest Blueprint with ApiParser, whose JSON bodies document their 413 (larger
    than MAX_CONTENT_LENGTH); fails_with documents the 400 of every endpoint."""

    ARGUMENTS_PARSER = ApiParser()

    def arguments(self, schema, *, location="json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(view):
            view = parse(view)
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            return self.alt_response(status, response=status.name)(view)
        return decorator


def blueprint(url_prefix, description, roles=None):
    """A blueprint of the API at PREFIX + url_prefix: Bearer key required, and one of `roles`
    when given (else 403); domain errors as JSON.

    Named after its URL ("/email-lists": "api-email-lists"), apart from the pages' blueprints."""
    bp = ApiBlueprint("api" + url_prefix.replace("/", "-"), __name__,
                      url_prefix=PREFIX + url_prefix, description=description)
    bp.before_request(authenticate)
    if roles is not None:
        @bp.before_request
        def only_roles():
            if current_user.role not in roles:
                abort(403)
    bp.register_error_handler(Invalid, invalid_fields)
    bp.register_error_handler(ListNotWritable, list_not_writable)
    return bp


def fails_with(bp, *statuses):
    """Document the error answers of an endpoint, each with the {"error": ...} body: those of
    every endpoint (400 for a request no endpoint reads, such as a NUL in a text; 401) and
    `statuses`."""
    def decorator(view):
        for status in sorted({HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, *statuses}):
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return decorator


def register(app, api):
    """Register every API blueprint, exempt from CSRF (a Bearer key, not a cookie, acts)."""
    from . import blueprints
    for bp in blueprints.ALL:
        csrf.exempt(bp)
        api.register_blueprint(bp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
