"""Test Run: the pop-up of a rule and the API, run for real by worker processes against a real
HTTP sink and SMTP server; never an event, a delivery or a change to a list."""
import html as html_text
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import (Channel, Contact, ContactSource, Delivery, Event, OptOutList, Role,
                             TestRun, TrackingRule, User)
from optintel.normalize import md5_of
from optintel import rule_test_runs

from conftest import Reply, fresh, free_port, wait_for

LEVELS = ["project", "email_campaign", "sms_campaign", "email_list", "phone_list"]
TYPED_EMAIL = "typed+test@example.org"


def dialog_url(level, scope_id, rule_id):
    return f"/tracking/{level}/{scope_id}/rules/{rule_id}/test-run"


def field_values(html):
    """{name: value} of the text inputs of the Test Run pop-up."""
    return {name: html_text.unescape(value) for name, value in re.findall(
        r'<input type="text" id="test-run-[^"]+" name="([^"]+)" value="([^"]*)"', html)}


def polls(html):
    return 'hx-trigger="every 1s"' in html


def result_url(html):
    return re.search(r'hx-get="([^"]+/test-runs/\d+)"', html).group(1)


def settled(web, started_html):
    """Follow the result region as the pop-up does until it stops polling; its final HTML."""
    assert polls(started_html) and "Running…" in started_html
    url = result_url(started_html)

    def done():
        html = web.htmx("get", url).get_data(as_text=True)
        return None if polls(html) else html
    return wait_for(done, message="the test run's result")


def run_from_dialog(web, level, scope_id, rule_id, typed=None):
    """Open the pop-up, keep its pre-filled values but `typed`, Confirm, wait for the result."""
    url = dialog_url(level, scope_id, rule_id)
    values = {**field_values(web.htmx("get", url).get_data(as_text=True)), **(typed or {})}
    started = web.htmx("post", url, data=values)
    assert started.status_code == 200
    return settled(web, started.get_data(as_text=True))


def counts():
    """(events, deliveries): what a test run must never add to."""
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Event.id))), \
        db.session.scalar(sa.select(sa.func.count(Delivery.id)))


def test_ping_url_runs_with_the_typed_values_on_a_worker(
        workers, as_admin, http_sink, make_list, make_rule):
    workers.start(1)
    watched = make_list(name="Partner & Co")
    rule_id = make_rule("ping_url", {
        "method": "POST", "url": http_sink.url + "/hook?e={{email}}", "content_type": "json",
        "body": '{"list": "{{list_name}}", "rule": "{{rule_id}}"}'}, "email_list", watched.id)
    http_sink.script("/hook", Reply(201, body='{"received": true}'))

    dialog = as_admin.htmx("get", dialog_url("email_list", watched.id, rule_id))
    html = dialog.get_data(as_text=True)
    assert dialog.status_code == 200 and "<dialog" in html and "Confirm" in html
    # One field per placeholder the rule uses, in order, with realistic samples of its list.
    assert field_values(html) == {"email": "jane.doe@example.com", "list_name": "Partner & Co",
                                  "rule_id": str(rule_id)}
    assert 'id="test-run-result"' in html and not polls(html)

    result = run_from_dialog(as_admin, "email_list", watched.id, rule_id,
                             {"email": TYPED_EMAIL, "list_name": 'Typed "list"'})
    [received] = http_sink.received("/hook")
    assert parse_qs(urlsplit(received.path).query) == {"e": [TYPED_EMAIL]}
    assert json.loads(received.body) == {"list": 'Typed "list"', "rule": str(rule_id)}
    assert 'id="test-run-result"' in result and "Succeeded" in result
    assert '<td class="response-status">201</td>' in result
    assert "{&#34;received&#34;: true}" in result
    assert '<a href="/logs/test-runs">See it in Test Runs</a>' in result

    [run] = fresh(sa.select(TestRun))
    assert (run.rule_id, run.status.value, run.response_status) == (rule_id, "succeeded", 201)
    assert run.values["email"] == TYPED_EMAIL and run.request["method"] == "POST"
    assert counts() == (0, 0)


def test_a_failed_test_run_shows_its_error(workers, as_admin, make_rule):
    workers.start(1)
    rule_id = make_rule("ping_url", {"method": "GET", "url": f"http://127.0.0.1:{free_port()}/x",
                                     "timeout": 2})
    result = run_from_dialog(as_admin, "project", 0, rule_id)
    assert "Failed" in result and '<td class="error">' in result
    assert "This rule uses no placeholders" in \
        as_admin.htmx("get", dialog_url("project", 0, rule_id)).get_data(as_text=True)
    [run] = fresh(sa.select(TestRun))
    assert run.status.value == "failed" and run.error and run.response_status is None
    assert counts() == (0, 0)


def test_smtp_email_is_received_by_the_smtp_server(workers, api, as_admin, smtp_server, make_rule):
    workers.start(1)
    smtp_server.credentials = {"relay": "relay-pa55"}
    rule_id = make_rule("smtp", {
        "connection": "custom", "host": "127.0.0.1", "port": smtp_server.port, "security": "none",
        "username": "relay", "password": "relay-pa55", "from": "alerts@optintel.example",
        "to": ["{{email}}"], "subject": "Test: {{contact}} on {{list_name}}",
        "body": "{{contact}} via {{mailer_name}}"})
    started = api.post(f"/tracking-rules/{rule_id}/test-run",
                       {"values": {"email": TYPED_EMAIL, "contact": TYPED_EMAIL,
                                   "list_name": "Typed list"}})
    assert started.status_code == 202 and started.json["status"] == "pending"

    run = wait_for(lambda: (r := api.get(f"/test-runs/{started.json['id']}").json)
                   ["status"] != "pending" and r, message="the SMTP test run")
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == [TYPED_EMAIL] and sent.mail_from == "alerts@optintel.example"
    assert sent.message["Subject"] == f"Test: {TYPED_EMAIL} on Typed list"
    assert sent.message.get_content().strip() == "{} via acme-mail".format(TYPED_EMAIL)
    assert smtp_server.logins == ["relay"]
    assert (run["status"], run["response_status"]) == ("succeeded", 250)
    assert run["response_body"] == "250 Message accepted for delivery"
    assert run["request"]["password"] == "********" and "relay-pa55" not in json.dumps(run)
    assert run["completed_at"] and run["duration_ms"] >= 0 and run["error"] == ""
    # The pop-up shows the SMTP server's reply.
    html = as_admin.htmx("get", f"/tracking/project/0/test-runs/{run['id']}").get_data(as_text=True)
    assert '<td class="response-status">250</td>' in html and "SMTP reply" in html
    assert "250 Message accepted for delivery" in html and not polls(html)
    assert counts() == (0, 0)


def test_slack_message_reaches_the_webhook(workers, as_admin, http_sink, make_list, make_rule):
    workers.start(1)
    watched = make_list(Channel.PHONE, name="Do not call")
    rule_id = make_rule("slack", {"webhook_url": http_sink.url + "/services/T0/B0/secret",
                                  "text": "{{contact}} left {{list_name}}"},
                        "phone_list", watched.id)
    html = as_admin.htmx("get", dialog_url("phone_list", watched.id, rule_id)) \
        .get_data(as_text=True)
    # A phone list's sample contact is a phone number.
    assert field_values(html) == {"contact": "+12025550143", "list_name": "Do not call"}

    result = run_from_dialog(as_admin, "phone_list", watched.id, rule_id, {"contact": "+15550001"})
    [posted] = http_sink.received("/services/T0/B0/secret")
    assert json.loads(posted.body) == {"text": "+15550001 left Do not call"}
    assert "Succeeded" in result and '<td class="response-status">200</td>' in result
    # The webhook URL is the credential: never shown back.
    assert "/services/T0/B0/secret" not in result
    [run] = fresh(sa.select(TestRun))
    assert "secret" not in run.request["url"]
    assert counts() == (0, 0)


@pytest.mark.parametrize("action, present, sentence", [
    ("add_to_list", False, "would add jane.doe@example.com to Partner"),
    ("add_to_list", True, "jane.doe@example.com is already in Partner"),
    ("remove_from_list", True, "would remove jane.doe@example.com from Partner"),
    ("remove_from_list", False, "jane.doe@example.com is not in Partner"),
])
def test_add_and_remove_only_say_what_they_would_change(
        workers, as_admin, make_list, make_rule, action, present, sentence):
    workers.start(1)
    watched, target = make_list(name="Source"), make_list(name="Partner")
    if present:
        add_contacts(target, ["jane.doe@example.com", "other@example.com"],
                     Origin(ContactSource.API))
    rule_id = make_rule(action, {"list_id": target.id}, "email_list", watched.id)
    before = counts(), fresh(sa.select(Contact.value).where(Contact.list_id == target.id)
                             .order_by(Contact.value))

    result = run_from_dialog(as_admin, "email_list", watched.id, rule_id)
    assert "Succeeded" in result and "Would change" in result
    assert f"Test only, nothing changed: {sentence}" in result
    assert (counts(), fresh(sa.select(Contact.value).where(Contact.list_id == target.id)
                            .order_by(Contact.value))) == before
    assert fresh(sa.select(OptOutList.contact_count).where(OptOutList.id == target.id)) == \
        [2 if present else 0]
    [run] = fresh(sa.select(TestRun))
    assert run.request["dry_run"] is True and run.request["list_id"] == target.id


def test_result_polls_only_while_the_run_is_pending(workers, as_admin, http_sink, make_rule):
    rule_id = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/later"})
    started = as_admin.htmx("post", dialog_url("project", 0, rule_id)).get_data(as_text=True)
    # No worker yet: the run waits, and the region keeps asking.
    again = as_admin.htmx("get", result_url(started)).get_data(as_text=True)
    assert polls(again) and "Running…" in again and http_sink.received() == []
    workers.start(1)
    result = settled(as_admin, again)
    assert "Succeeded" in result and len(http_sink.received("/later")) == 1


# ---- Who may run which rule ---------------------------------------------------------------

@pytest.fixture
def people(make_user):
    """The campaign manager and the list owner whose scopes the `own` rules are in."""
    return {Role.CAMPAIGN_MANAGER: make_user(Role.CAMPAIGN_MANAGER),
            Role.LIST_OWNER: make_user(Role.LIST_OWNER)}


@pytest.fixture
def rule_in(people, make_list, make_campaign, make_rule):
    """rule_in(level, own) -> (scope id or 0, rule id): a Ping URL rule at the level, in a scope
    of `people` (own) or of nobody's."""
    def make(level, own=True):
        manager, owner = (people[Role.CAMPAIGN_MANAGER], people[Role.LIST_OWNER]) if own \
            else (None, None)
        scope = {"project": lambda: None,
                 "email_campaign": lambda: make_campaign(Channel.EMAIL, manager=manager),
                 "sms_campaign": lambda: make_campaign(Channel.PHONE, manager=manager),
                 "email_list": lambda: make_list(Channel.EMAIL, owner=owner),
                 "phone_list": lambda: make_list(Channel.PHONE, owner=owner)}[level]()
        rule_id = make_rule("ping_url", {"method": "GET",
                                         "url": "https://example.com/?c={{contact}}"},
                            level, scope and scope.id)
        return (scope.id if scope else 0), rule_id
    return make


def expected_status(role, level, own):
    """As the other rule endpoints: 403 for Project rules, 404 for someone else's scope."""
    if role == Role.GLOBAL_ADMIN:
        return 200
    if level == "project":
        return 403
    mine = (role == Role.CAMPAIGN_MANAGER and "campaign" in level) or \
           (role == Role.LIST_OWNER and "list" in level)
    return 200 if mine and own else 404


def user_of(role, people, make_user):
    return people.get(role) or make_user(role)


def started_by_admin(rule_id):
    """A run of the rule started by a Global Admin (whom the others then try to read)."""
    return rule_test_runs.start(db.session.get(TrackingRule, rule_id), {},
                           db.session.scalar(sa.select(User).where(User.role == Role.GLOBAL_ADMIN)))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("own", [True, False])
def test_who_may_run_which_rule_from_the_pop_up(web, admin, make_user, people, rule_in, role,
                                                 level, own):
    scope_id, rule_id = rule_in(level, own)
    admin_run = started_by_admin(rule_id)
    web.login(user_of(role, people, make_user))
    status = expected_status(role, level, own)
    assert web.htmx("get", dialog_url(level, scope_id, rule_id)).status_code == status
    assert web.htmx("post", dialog_url(level, scope_id, rule_id)).status_code == status
    result = web.htmx("get", f"/tracking/{level}/{scope_id}/test-runs/{admin_run.id}")
    assert result.status_code == status
    assert db.session.query(TestRun).count() == (2 if status == 200 else 1)


def test_a_rule_is_reached_only_through_its_own_level_and_scope(as_admin, rule_in):
    scope_id, rule_id = rule_in("email_list")
    other_scope, _ = rule_in("email_list", own=False)
    assert as_admin.htmx("get", dialog_url("email_list", other_scope, rule_id)).status_code == 404
    assert as_admin.htmx("get", dialog_url("phone_list", scope_id, rule_id)).status_code == 404
    started = as_admin.htmx("post", dialog_url("email_list", scope_id, rule_id)) \
        .get_data(as_text=True)
    assert as_admin.htmx("get", result_url(started).replace(
        f"/email_list/{scope_id}/", f"/email_list/{other_scope}/")).status_code == 404
    assert as_admin.htmx("get", "/tracking/project/0/test-runs/999999").status_code == 404


def test_anonymous_is_sent_to_login(web, rule_in):
    scope_id, rule_id = rule_in("email_list")
    response = web.get(dialog_url("email_list", scope_id, rule_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("level", LEVELS)
def test_who_may_run_which_rule_through_the_api(api, api_as, make_user, people, rule_in, role,
                                                level, own):
    _, rule_id = rule_in(level, own)
    admin_run = api.post(f"/tracking-rules/{rule_id}/test-run", {"values": {}}).json["id"]
    caller = api_as(user_of(role, people, make_user))
    may = expected_status(role, level, own) == 200
    started = caller.post(f"/tracking-rules/{rule_id}/test-run", {"values": {}})
    assert started.status_code == (202 if may else 404)
    assert caller.get(f"/test-runs/{admin_run}").status_code == (200 if may else 404)
    assert db.session.query(TestRun).count() == (2 if may else 1)


# ---- The API's contract -----------------------------------------------------------------------

def test_api_contract(workers, api, http_sink, make_list, make_rule):
    watched = make_list(name="Watched")
    rule_id = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/api?e={{email}}"},
                        "email_list", watched.id)
    started = api.post(f"/tracking-rules/{rule_id}/test-run",
                       {"values": {"email": TYPED_EMAIL}})
    assert started.status_code == 202
    body = started.json
    assert {"id", "rule_id", "status", "values", "created_at"} <= set(body)
    assert (body["rule_id"], body["status"], body["level"], body["action"]) == \
        (rule_id, "pending", "email_list", "ping_url")
    # Typed values win; every other placeholder has a realistic sample.
    assert body["values"]["email"] == TYPED_EMAIL
    assert body["values"]["list_name"] == "Watched" and body["values"]["list_id"] == str(watched.id)
    # The typed contact brings its own MD5, so {{contact_md5}} speaks of the same contact.
    assert body["values"]["contact_md5"] == md5_of(TYPED_EMAIL.strip().lower())
    assert body["values"]["contact"] == TYPED_EMAIL

    pending = api.get(f"/test-runs/{body['id']}").json
    assert pending["status"] == "pending" and pending["completed_at"] is None
    workers.start(1)
    done = wait_for(lambda: (r := api.get(f"/test-runs/{body['id']}").json)["completed_at"] and r,
                    message="the API test run")
    assert (done["status"], done["response_status"], done["response_body"]) == \
        ("succeeded", 200, "ok")
    assert done["request"]["url"] == http_sink.url + "/api?e=typed%2Btest%40example.org"
    assert {"response_headers", "error", "duration_ms"} <= set(done)
    assert [r.query for r in http_sink.received("/api")] == [{"e": [TYPED_EMAIL]}]

    # A test run is no event and no delivery, for the API either.
    assert api.get("/events").json["items"] == []
    assert api.get("/deliveries").json["items"] == []
    assert counts() == (0, 0)


@pytest.mark.parametrize("values, field", [
    ({"nope": "x"}, "values"),
    ({"email": 5}, "values"),
    ("not an object", "values"),
])
def test_api_refuses_bad_values(api, make_rule, values, field):
    rule_id = make_rule("ping_url", {"method": "GET", "url": "https://example.com/?e={{email}}"})
    response = api.post(f"/tracking-rules/{rule_id}/test-run", {"values": values})
    assert response.status_code == 422 and field in json.dumps(response.json)
    assert db.session.query(TestRun).count() == 0


def test_api_unknown_rule_and_run_are_404(api):
    assert api.post("/tracking-rules/999999/test-run", {"values": {}}).status_code == 404
    assert api.get("/test-runs/999999").status_code == 404


def test_api_run_of_a_deleted_rule_stays_readable_and_says_why(workers, api, make_rule):
    rule_id = make_rule("ping_url", {"method": "GET", "url": "https://example.com/x"})
    run_id = api.post(f"/tracking-rules/{rule_id}/test-run", {}).json["id"]
    assert api.delete(f"/tracking-rules/{rule_id}").status_code == 204
    workers.start(1)
    done = wait_for(lambda: (r := api.get(f"/test-runs/{run_id}").json)["completed_at"] and r,
                    message="the orphaned test run")
    assert (done["rule_id"], done["status"]) == (None, "failed")
    assert "deleted" in done["error"]


def test_a_test_run_among_real_events_stays_out_of_events_and_deliveries(
        workers, api, http_sink, make_list, make_rule):
    workers.start(1)
    watched = make_list()
    rule_id = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/both?e={{email}}"},
                        "email_list", watched.id)
    assert api.post(f"/email-lists/{watched.id}/emails-add",
                    {"emails": ["real@example.com"]}).status_code == 200
    run_id = api.post(f"/tracking-rules/{rule_id}/test-run",
                      {"values": {"email": TYPED_EMAIL}}).json["id"]
    wait_for(lambda: len(http_sink.received("/both")) == 2, message="the event and the test run")
    wait_for(lambda: api.get(f"/test-runs/{run_id}").json["completed_at"], message="the run")
    [event] = api.get("/events").json["items"]
    assert event["contact"] == "real@example.com"
    deliveries = wait_for(lambda: (d := api.get("/deliveries").json["items"]) and
                          d[0]["status"] == "succeeded" and d, message="the real delivery")
    assert [d["event_id"] for d in deliveries] == [event["id"]]
    assert api.get(f"/events/{event['id']}").json["deliveries"][0]["id"] == deliveries[0]["id"]
    assert counts() == (1, 1)
