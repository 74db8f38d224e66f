"""The `flask` commands for operators: users, API keys, demo data, list imports."""
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from optintel.commands.demo import DEMO_PASSWORD
from optintel.config import ROOT
from optintel.extensions import db
from optintel.models import (ApiKey, Campaign, Channel, Contact, ContactSource, Event, ListKind,
                             Mailer, OptOutList, Role, Storage, Trigger, User)
from optintel.queue import EVENTS_QUEUE
from tests.conftest import KEYS


@pytest.fixture
def flask_cli(app):
    """Run `flask ARGS...` in-process against the test app."""
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=[str(arg) for arg in args])
    return run


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_users_create_stores_an_argon2_hash(flask_cli):
    result = flask_cli("users", "create", " Lee@Example.COM ", "--password", "a long password",
                       "--role", "list_owner", "--name", "Lee Owner")
    assert result.exit_code == 0, result.output
    assert "Created List Owner lee@example.com" in result.output
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.name, user.role) == ("lee@example.com", "Lee Owner", Role.LIST_OWNER)
    assert user.password_hash.startswith("$argon2id$")
    assert "a long password" not in user.password_hash
    assert user.check_password("a long password") and not user.check_password("a long passwort")


def test_created_user_logs_in(flask_cli, web):
    flask_cli("users", "create", "cm@example.com", "--password", "manager pass 1",
              "--role", "campaign_manager")
    response = web.post_form("/login", {"email": "cm@example.com", "password": "manager pass 1"})
    assert response.status_code == 302


@pytest.mark.parametrize("args, status, message", [
    (["admin@example.com", "--password", "a long password", "--role", "list_owner"], 1,
     "email: Another user has this email."),
    (["new@example.com", "--password", "short", "--role", "list_owner"], 1,
     "password: At least 10 characters."),
    (["not-an-email", "--password", "a long password", "--role", "list_owner"], 1, "email: "),
    (["new@example.com", "--password", "a long password", "--role", "superuser"], 2,
     "'superuser' is not one of 'global_admin', 'campaign_manager', 'list_owner'"),
])
def test_users_create_refuses_bad_input(flask_cli, admin, args, status, message):
    result = flask_cli("users", "create", *args)
    assert result.exit_code == status
    assert message in result.output
    assert count(User) == 1


def test_api_keys_create_prints_the_key_alone_on_its_last_line(flask_cli, admin):
    result = flask_cli("api-keys", "create", "ADMIN@example.com", "--name", "CRM sync")
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    row = ApiKey.find(key)
    assert row is not None and (row.user, row.name) == (admin, "CRM sync")
    assert row.key_hash != key and key not in row.key_hash


def test_api_key_from_the_cli_opens_the_api(flask_cli, admin, web):
    key = flask_cli("api-keys", "create", admin.email).output.splitlines()[-1]
    assert web.get("/api/v1/mailers").status_code == 401
    response = web.get("/api/v1/mailers", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_api_keys_create_for_an_unknown_user_fails(flask_cli):
    result = flask_cli("api-keys", "create", "nobody@example.com")
    assert result.exit_code == 1
    assert "No user has the email nobody@example.com." in result.output
    assert count(ApiKey) == 0


def test_the_flask_command_from_the_repository_root(admin, database_url):
    """Flask finds app.py from the repository root and the key is the last line of stdout."""
    env = dict(os.environ, DATABASE_URL=database_url, FLASK_APP="app.py", **KEYS)
    result = subprocess.run([sys.executable, "-m", "flask", "api-keys", "create", admin.email],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    key = result.stdout.splitlines()[-1]
    assert key.startswith(ApiKey.PREFIX) and " " not in key
    assert ApiKey.find(key).user_id == admin.id


def test_demo_seed_creates_a_working_installation(flask_cli, web):
    result = flask_cli("demo", "seed")
    assert result.exit_code == 0, result.output
    assert f"Demo login: admin@example.com / {DEMO_PASSWORD}" in result.output
    assert "http://127.0.0.1:" in result.output
    assert {u.role for u in db.session.scalars(sa.select(User))} == set(Role)
    assert count(Mailer) == 3
    lists = db.session.scalars(sa.select(OptOutList)).all()
    assert {(lst.channel, lst.kind, lst.storage) for lst in lists} >= {
        (Channel.EMAIL, ListKind.SINGLE, Storage.PLAIN_MD5),
        (Channel.EMAIL, ListKind.SINGLE, Storage.MD5),
        (Channel.EMAIL, ListKind.GROUPED, Storage.PLAIN_MD5),
        (Channel.PHONE, ListKind.SINGLE, Storage.PLAIN_MD5)}
    campaigns = db.session.scalars(sa.select(Campaign)).all()
    assert {c.channel for c in campaigns} == {Channel.EMAIL, Channel.PHONE}
    assert 200 <= count(Contact) == sum(lst.contact_count for lst in lists if not lst.is_grouped)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(
        Contact.value.is_not(None), Contact.list_id.in_(
            [lst.id for lst in lists if lst.storage == Storage.MD5]))) == 0
    triggers = db.session.scalars(sa.select(Event.trigger).distinct()).all()
    assert set(triggers) == {Trigger.CONTACT_ADDED, Trigger.CONTACT_DELETED}
    response = web.post_form("/login", {"email": "admin@example.com", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_demo_seed_shows_the_unsubscribe_links_and_the_stop_webhook(flask_cli, web):
    result = flask_cli("demo", "seed")
    spring = db.session.scalar(sa.select(Campaign).where(Campaign.channel == Channel.EMAIL))
    reminders = db.session.scalar(sa.select(Campaign).where(Campaign.channel == Channel.PHONE))
    assert f"on the Settings tab of the email campaign “{spring.name}”" in result.output
    assert f"http://127.0.0.1:5000/sms/{reminders.id}/inbound" in result.output
    assert f"flask demo sms-reply {reminders.id} +12025550123 STOP" in result.output
    assert [lst.name for lst in spring.receiving_lists] == ["Unsubscribes"]
    assert reminders.receiving_lists and reminders.sms_auth_token_encrypted
    assert db.session.scalars(sa.select(Contact.source).distinct().where(
        Contact.list_id == reminders.receiving_lists[0].id)).all() == [ContactSource.SMS_REPLY]
    web.post_form("/login", {"email": "manager@example.com", "password": DEMO_PASSWORD})
    page = web.get(f"/campaigns/email/{spring.id}/edit").get_data(as_text=True)
    assert {"northwind", "bluebird"} <= set(re.findall(r'data-mailer="([^"]+)"', page))
    link = re.search(r'href="http://localhost(/unsubscribe\?t=[^"]+)"', page).group(1)
    page = web.post(link, data={"email": "demo.reader@example.com"}).get_data(as_text=True)
    assert "You are unsubscribed" in page
    page = web.get(f"/campaigns/phone/{reminders.id}/edit").get_data(as_text=True)
    assert f"http://localhost/sms/{reminders.id}/inbound" in page


def test_demo_seed_if_empty_keeps_an_installation_as_it_is(flask_cli):
    models = (User, Mailer, OptOutList, Campaign, Contact, Event)
    flask_cli("demo", "seed")
    before = [count(model) for model in models]
    result = flask_cli("demo", "seed", "--if-empty")
    assert result.exit_code == 0
    assert "no demo data added" in result.output
    assert f"Demo login: admin@example.com / {DEMO_PASSWORD}" in result.output
    assert [count(model) for model in models] == before


def test_demo_seed_if_empty_does_nothing_when_any_user_exists(flask_cli, make_user):
    make_user(Role.LIST_OWNER)
    assert flask_cli("demo", "seed", "--if-empty").exit_code == 0
    assert (count(User), count(Mailer), count(OptOutList)) == (1, 0, 0)


def test_demo_seed_twice_without_if_empty_fails_cleanly(flask_cli):
    flask_cli("demo", "seed")
    result = flask_cli("demo", "seed")
    assert result.exit_code == 1
    assert "Another user has this email." in result.output
    assert count(User) == 3


IMPORT_FILE = """\
kept@example.com

  New@Example.com
not-an-email
new@example.com
x@

third@example.org
"""


def test_lists_import_reports_added_existing_and_invalid_lines(flask_cli, make_list, make_mailer,
                                                               make_campaign, tmp_path):
    opt_out_list = make_list()
    mailer = make_mailer()
    campaign = make_campaign(lists=[opt_out_list], mailers=[mailer])
    flask_cli("lists", "import", opt_out_list.id, _file(tmp_path, "kept@example.com\n"))
    result = flask_cli("lists", "import", opt_out_list.id, _file(tmp_path, IMPORT_FILE),
                       "--mailer-id", mailer.id, "--campaign-id", campaign.id)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("line 4: not-an-email: ")
    assert lines[1].startswith("line 6: x@: ")
    assert lines[2:] == ["Added: 2", "Existing: 2", "Invalid: 2"]
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 3
    events = db.session.scalars(sa.select(Event).where(Event.mailer_id == mailer.id)).all()
    assert sorted(e.contact for e in events) == ["new@example.com", "third@example.org"]
    assert {(e.source, e.campaign_id) for e in events} == {(ContactSource.UPLOAD, campaign.id)}


def test_lists_import_goes_in_batches_with_line_numbers_across_them(
        app, flask_cli, make_list, redis_server, tmp_path):
    app.config["OPTINTEL_MAX_BATCH"] = 3
    opt_out_list = make_list()
    text = "a@example.com\nb@example.com\nbad\n\nc@example.com\nd@\ne@example.com\n"
    result = flask_cli("lists", "import", opt_out_list.id, _file(tmp_path, text))
    assert result.output.splitlines()[:2] == [
        "line 3: bad: An email address must have an @-sign.",
        "line 6: d@: There must be something after the @-sign."]
    assert "Added: 4" in result.output
    # One dispatch job per batch: [a, b, bad], [c, d@, e].
    assert Queue(EVENTS_QUEUE, connection=Redis.from_url(redis_server.url)).count == 2


def test_lists_import_of_phone_numbers(flask_cli, make_list, tmp_path):
    opt_out_list = make_list(Channel.PHONE)
    result = flask_cli("lists", "import", opt_out_list.id,
                       _file(tmp_path, "(202) 555-0123\n+44 20 7946 0018\n12345\n"))
    assert "line 3: 12345: " in result.output and "Added: 2" in result.output
    values = db.session.scalars(sa.select(Contact.value).order_by(Contact.value)).all()
    assert values == ["+12025550123", "+442079460018"]


def test_lists_import_refuses_a_grouped_list(flask_cli, make_list, tmp_path):
    group = make_list(kind=ListKind.GROUPED, members=[make_list()])
    result = flask_cli("lists", "import", group.id, _file(tmp_path, "a@example.com\n"))
    assert result.exit_code == 1
    assert "is a Grouped list" in result.output
    assert count(Contact) == count(Event) == 0


@pytest.mark.parametrize("extra, message", [
    ([], "No opt-out list has the id"),
    (["--mailer-id", 999], "mailer_id: No such mailer: 999."),
])
def test_lists_import_refuses_unknown_ids(flask_cli, make_list, tmp_path, extra, message):
    opt_out_list = make_list()
    list_id = opt_out_list.id if extra else opt_out_list.id + 1
    result = flask_cli("lists", "import", list_id, _file(tmp_path, "a@example.com\n"), *extra)
    assert result.exit_code == 1
    assert message in result.output
    assert count(Contact) == 0


def _file(tmp_path, text):
    path = tmp_path / f"values{len(list(tmp_path.iterdir()))}.txt"
    path.write_text(text)
    return path
