"""The server's log holds no secret, no contact typed into a search and no contact of a list:
the web server's access log names paths without their query, the workers log jobs without
their arguments, Redis URLs without their password, and failures without their message."""
import logging
import os
import re
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from optintel.actions.base import Outcome, Work
from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.executor import timed_attempt
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus, ProjectSettings, User
from optintel.server_log import without_password

from tests.conftest import KEYS, Reply, fresh, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
CONTACT = "jane.searched@example.com"


def procfile_command(name):
    """The command line of a Procfile process (the program its shell execs)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip().removeprefix("exec ")
    raise AssertionError(f"no {name} process in the Procfile")


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def gunicorn(database_url, redis_server, tmp_path):
    """The Procfile's web process (gunicorn, its access log on stdout) on a free port; yields
    (base URL, log path)."""
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    command = procfile_command("web").replace("$PORT", str(port))
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_server.url, **KEYS)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(shlex.split(command), cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), timeout=30, message="gunicorn to answer")
        yield base, log_path
    finally:
        proc.terminate()
        proc.wait(15)


def _answers(base):
    try:
        return get(base + "/login") == 200
    except OSError:
        return False


def test_the_access_log_names_paths_without_their_query(gunicorn):
    base, log_path = gunicorn
    searched = f"/lists/email/1/contacts?q={CONTACT.replace('@', '%40')}"
    assert get(base + searched) == 302
    assert get(base + f"/logs/?contact={CONTACT}&status=failed",
               headers={"Referer": base + searched}) == 302
    assert get(base + f"/login?next=/lists/email/1/contacts?q={CONTACT}") == 200
    time.sleep(0.5)  # the access log is written after the answer
    log = log_path.read_text()
    assert '"GET /lists/email/1/contacts HTTP/1.1" 302' in log
    assert '"GET /logs/ HTTP/1.1" 302' in log
    assert '"GET /login HTTP/1.1" 200' in log
    assert "jane" not in log.lower() and "status=failed" not in log


def test_a_redis_url_is_logged_without_its_password(make_workers):
    url = f"redis://opt:pw-not-for-logs@127.0.0.1:{free_port()}/0"
    workers = make_workers(REDIS_URL=url).start(1)
    wait_for(lambda: "Waiting for Redis" in workers.logs(), message="the worker to wait")
    logs = workers.logs()
    assert "pw-not-for-logs" not in logs
    assert re.search(r"Waiting for Redis at redis://opt:\*+@127\.0\.0\.1:\d+/0", logs)


@pytest.mark.parametrize("url, shown", [
    ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
    ("redis://user:secret@host/1", "redis://user:***@host/1"),
    ("redis://host:6379/0", "redis://host:6379/0"),
    ("unix:///run/redis.sock?password=secret&db=0", "unix:///run/redis.sock"),
])
def test_without_password(url, shown):
    assert without_password(url) == shown


def test_workers_log_jobs_without_their_arguments(as_admin, make_list, make_rule, http_sink,
                                                  workers):
    """A Retry all job carries the log's filter, a searched contact included."""
    ProjectSettings.get().retry_schedule = "0"
    db.session.commit()
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook",
                           "content_type": "json", "body": '{"contact": "{{contact}}"}'})
    http_sink.script("/hook", Reply(503, "busy"))
    workers.start(1)
    add_contacts(make_list(), [CONTACT], Origin("api"))
    wait_for(lambda: [d for d in fresh(sa.select(Delivery))
                      if d.status == DeliveryStatus.FAILED], message="the failed delivery")
    response = as_admin.htmx("POST", f"/logs/retry-all?contact={CONTACT}")
    assert "Retry started: 1 delivery" in response.get_data(as_text=True)
    # The retried attempt comes after the Retry all job was taken and logged.
    wait_for(lambda: len(http_sink.received("/hook")) == 2, message="the retried attempt")
    logs = workers.logs()
    assert "retry_matching" not in logs and "Successfully completed job" in logs
    assert "jane" not in logs


def test_an_action_that_raises_is_logged_without_its_message(app, caplog):
    """Exception messages of actions may hold contacts, URLs with tokens, SMTP replies: the
    log keeps the type and the stack; the attempt keeps the message for whoever may read it."""
    message = f"token=tok-not-for-logs for {CONTACT}"

    def attempt(work):
        raise RuntimeError(message)  # the log quotes this line of source, not the message

    with caplog.at_level(logging.DEBUG):
        outcome = timed_attempt(attempt, Work(41, 7, {}, {}, {}))
    assert isinstance(outcome, Outcome) and not outcome.succeeded
    assert "tok-not-for-logs" in outcome.error
    assert [r.levelname for r in caplog.records if "Delivery 41" in r.getMessage()] == ["ERROR"]
    logged = caplog.text
    assert "RuntimeError" in logged and "in attempt" in logged
    assert "tok-not-for-logs" not in logged and "jane" not in logged


def test_database_errors_do_not_carry_the_values_of_their_statement(app, make_user):
    user = make_user(email=CONTACT)
    db.session.add(User(email=CONTACT, role=user.role, password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError) as raised:
        db.session.commit()
    db.session.rollback()
    assert "SQL parameters hidden" in str(raised.value)
    assert "[parameters:" not in str(raised.value)
