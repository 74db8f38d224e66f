"""Error responses: JSON {"error": {...}} under /api/, an HTML page elsewhere."""
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         500: "server_error"}


def wants_json():
    return request.path.startswith("/api/")


def api_error(status, message, fields=None, code=None):
    """The body and status of an API error."""
    error = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}, status


def _fields_of(exc):
    """webargs/marshmallow validation messages, flattened to {field: [messages]}."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("errors") or data.get("messages") or {}
    flat = {}
    for by_field in messages.values():  # webargs groups them by location: json, query ...
        flat.update(by_field)
    return flat


def handle_http_exception(exc):
    if wants_json():
        fields = _fields_of(exc)
        data = getattr(exc, "data", None) or {}
        message = data.get("message") or exc.description
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
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    error = InternalServerError()
    if wants_json():
        return api_error(500, "Something went wrong on our side; it has been logged.")
    return render_template("errors/error.html", error=error), 500


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
