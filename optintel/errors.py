"""Error responses: JSON {"error": {...}} under /api/, an HTML page elsewhere."""
import marshmallow as ma
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         500: "server_error"}


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "invalid"})
    message = ma.fields.String(required=True)
    by_field = ma.fields.Dict(data_key="fields", keys=ma.fields.String(),
                              values=ma.fields.List(ma.fields.String()),
                              metadata={"description": "Messages by field, for invalid input."})


class ErrorSchema(ma.Schema):
    """The body of every API error, as api_error builds it (documentation only)."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def wants_json():
    return request.path.startswith("/api/")


def api_error(status, message, fields=None, code=None):
    """The body and status of an API error."""
    error = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}, status


def _lines(messages):
    """Messages as a list of strings; marshmallow nests those of list items by index."""
    if isinstance(messages, dict):
        return [f"{key}: {line}" for key, nested in messages.items() for line in _lines(nested)]
    return list(messages)


def _fields_of(exc):
    """{field: [messages]} from flask_smorest.abort(errors=...) or from webargs, which groups
    them by location (json, query ...)."""
    data = getattr(exc, "data", None) or {}
    by_field = data.get("errors") or {}
    for messages in (data.get("messages") or {}).values():
        if isinstance(messages, dict):  # a list is about the whole body, e.g. "Invalid JSON body."
            by_field = {**by_field, **messages}
    return {field: _lines(messages) for field, messages in by_field.items()}


def _message_of(exc):
    data = getattr(exc, "data", None) or {}
    whole_body = [m for by_field in (data.get("messages") or {}).values()
                  if isinstance(by_field, list) for m in by_field]
    return data.get("message") or " ".join(whole_body) or exc.description


def handle_http_exception(exc):
    if wants_json():
        fields = _fields_of(exc)
        data = getattr(exc, "data", None) or {}
        message = _message_of(exc)
        if fields and exc.code == 422:
            message = "The request has invalid fields."
        body, status = api_error(exc.code, message, fields, data.get("code"))
        return body, status, data.get("headers", {})
    return render_template("errors/error.html", error=exc), exc.code


def handle_csrf_error(exc):
    if wants_json():
        return api_error(400, exc.description)
    return render_template("errors/error.html", error=exc), 400


def handle_unexpected(exc):
    """Any other exception (HTTPExceptions have their own handler): a 500 without details."""
    if wants_json():
        return api_error(500, "Something went wrong on our side; it has been logged.")
    return render_template("errors/error.html", error=InternalServerError()), 500


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
