"""A request id on every response, and on every 500: its traceback in the server's log under that
id, which the error page and the JSON error show, so that a report finds the traceback."""
import logging
import re

import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import Role
from tests.conftest import WebClient, app_of_its_own

CONTACT = "jane.secret@example.com"
BOOM_MESSAGE = "the test route failed on purpose"


class Boom(RuntimeError):
    """A fault of the code, raised by the routes below."""


def _explode():
    raise Boom(BOOM_MESSAGE)


def _database_fault():
    db.session.execute(sa.text("SELECT id FROM no_such_table WHERE contact = :contact"),
                       {"contact": CONTACT})


@pytest.fixture
def failing_app(app, app_config):
    """An app of its own with routes that fail (pages and API paths), added before any request;
    the routes exist only in this app (the shared test app has served requests already)."""
    app = app_of_its_own(app_config)
    app.add_url_rule("/explode", "explode_page", _explode)
    app.add_url_rule("/api/v1/explode", "explode_api", _explode)
    app.add_url_rule("/api/v1/database-fault", "database_fault", _database_fault)
    app.add_url_rule("/database-fault", "database_fault_page", _database_fault)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _records_with(caplog, request_id):
    return [r for r in caplog.records if request_id in r.getMessage()]


def test_a_500_of_the_api_logs_its_traceback_under_the_id_it_answers(failing_app, caplog):
    caplog.set_level(logging.ERROR)
    response = failing_app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    error = response.json["error"]
    assert error["code"] == "server_error"
    request_id = error["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.headers["X-Request-Id"] == request_id
    assert "the test route failed" not in response.get_data(as_text=True)  # no details leak
    [record] = _records_with(caplog, request_id)
    assert record.levelno == logging.ERROR
    # The traceback names the exception's type and where it came from, not its message, which
    # may quote a contact or a secret.
    assert "Traceback" in caplog.text and "Boom" in caplog.text and "explode" in caplog.text
    assert "the test route failed on purpose" not in caplog.text
    assert record.request_id == request_id


def test_a_500_page_shows_the_request_id(failing_app, caplog):
    caplog.set_level(logging.ERROR)
    response = failing_app.test_client().get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    assert request_id in page
    assert "the test route failed" not in page
    [record] = _records_with(caplog, request_id)
    assert "Boom" in record.getMessage()


def test_a_database_fault_is_logged_without_the_values_of_its_statement(failing_app, caplog):
    caplog.set_level(logging.ERROR)
    response = failing_app.test_client().get("/api/v1/database-fault")
    assert response.status_code == 500
    [record] = _records_with(caplog, response.json["error"]["request_id"])
    assert "no_such_table" in caplog.text  # the traceback is there...
    assert CONTACT not in caplog.text  # ...but not the contact the statement was given
    assert CONTACT not in response.get_data(as_text=True)


def test_after_a_database_fault_the_error_page_and_the_next_request_work(failing_app, admin):
    as_admin = WebClient(failing_app.test_client()).login(admin)
    response = as_admin.get("/database-fault")
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] in response.get_data(as_text=True)
    assert as_admin.get("/lists/email/").status_code == 200


def test_each_request_has_its_own_id(failing_app):
    client = failing_app.test_client()
    ids = {client.get("/api/v1/explode").json["error"]["request_id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page", "/api/v1/mailers",
                                  "/api/v1/openapi.json", "/healthz", "/static/app.css"])
def test_every_response_carries_a_request_id(app, path):
    response = app.test_client().get(path)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers.get("X-Request-Id", ""))


def test_logged_in_pages_and_api_answers_carry_a_request_id(as_admin, api_as, make_user):
    assert as_admin.get("/lists/email/").headers["X-Request-Id"]
    api = api_as(make_user(Role.GLOBAL_ADMIN))
    assert api.get("/mailers").headers["X-Request-Id"]
    assert api.get("/mailers/999").headers["X-Request-Id"]


def test_the_api_documents_the_request_id_of_errors(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    assert "request_id" in document["components"]["schemas"]["ErrorDetail"]["properties"]
