"""Error responses: JSON {"error": {...}} under /api/, an HTML page elsewhere; and the request id
that every response carries (X-Request-Id) and a 500 shows, under which the server's log holds
its traceback, so that a report of an error finds it."""
import uuid

import marshmallow as ma
from flask import current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from .server_log import stack_without_messages
from .uploads import too_large_message
from .validation import first_lines

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         500: "server_error"}


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "invalid"})
    message = ma.fields.String(required=True)
    by_field = ma.fields.Dict(data_key="fields", keys=ma.fields.String(),
                              values=ma.fields.List(ma.fields.String()),
                              metadata={"description": "Messages by field, for invalid input; "
                                                       "past 100 of a field, a last one says "
                                                       "how many there were."})
    request_id = ma.fields.String(metadata={
        "description": "Of a 500: the id under which the server's log holds what went wrong "
                       "(also the X-Request-Id header of every answer)."})


class ErrorSchema(ma.Schema):
    """The body of every API error, as api_error builds it (documentation only)."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


REQUEST_ID_HEADER = "X-Request-Id"


def request_id():
    """The id of the current request, made on first use."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def _with_request_id(response):
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def wants_json():
    return request.path.startswith("/api/")


def api_error(status, message, fields=None, code=None):
    """The body and status of an API error; at most the first 100 messages of a field."""
    error = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        error["fields"] = {name: first_lines(lines) for name, lines in fields.items()}
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
    if exc.code >= 500:
        return handle_unexpected(exc)
    if wants_json():
        fields = _fields_of(exc)
        data = getattr(exc, "data", None) or {}
        message = _message_of(exc)
        if fields and exc.code == 422:
            message = "The request has invalid fields."
        body, status = api_error(exc.code, message, fields, data.get("code"))
        return body, status, data.get("headers", {})
    return render_template("errors/error.html", error=exc), exc.code


def handle_too_large(exc):
    """413 saying how large a request may be: a route that takes files (uploads.accept_uploads)
    says the upload limit, whether the body declared its length or not."""
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    if limit == current_app.config["OPTINTEL_MAX_UPLOAD_BYTES"]:
        message = too_large_message(limit)
    else:
        message = (f"The request is too large: this server reads at most {limit:,} bytes "
                   f"({limit / 2**20:.3g} MB).")
    return handle_http_exception(RequestEntityTooLarge(message))


def handle_csrf_error(exc):
    if wants_json():
        return api_error(400, exc.description)
    return render_template("errors/error.html", error=exc), 400


def handle_unexpected(exc):
    """Any other exception, and 5xx ones: the traceback in the log under the request's id, and
    an answer without details that gives the id."""
    from .extensions import db  # (extensions imports this module)
    # A failed statement leaves PostgreSQL's transaction aborted, and the page reads the user.
    db.session.rollback()
    failed = request_id()
    # The path names ids only; the query string may hold a searched contact, so it stays out,
    # and so do the exceptions' messages, which may quote a contact or a secret.
    current_app.logger.error("Request %s failed: %s %s\n%s", failed, request.method, request.path,
                             stack_without_messages(exc), extra={"request_id": failed})
    error = exc if isinstance(exc, HTTPException) else InternalServerError()
    if wants_json():
        body, status = api_error(error.code, "Something went wrong on our side; it has been "
                                             f"logged under request id {failed}.")
        body["error"]["request_id"] = failed
        return body, status
    return render_template("errors/error.html", error=error, request_id=failed), error.code


def init_app(app):
    """Error handlers of every app, the test app's included, so that tests see what users see;
    the request id on every response."""
    app.after_request(_with_request_id)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
