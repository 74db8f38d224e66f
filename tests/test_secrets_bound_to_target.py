"""A stored secret belongs to its target (SPEC §6): changing a Ping URL's scheme, host or port,
or an SMTP connection's host, port, security or user, never sends the stored secrets to the
new target. Sent back as the mask they are refused ("type the secret again"); left out, they
are dropped. Real HTTP sink and SMTP servers show what each target received."""
import base64
import html

import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import TrackingRule
from optintel.rules.storage import stored_settings

from conftest import SmtpServer
from test_pipeline_faults import add_emails, settled

MASK = "********"
AGAIN = "The target changed: type the secret again."
SECRET = "whsec_" + base64.b64encode(b"opt-intel-bound-secrets-signing").decode()


def stored(rule_id):
    db.session.expire_all()
    return stored_settings(db.session.get(TrackingRule, rule_id))


def echoed(api, rule_id, **changes):
    """The rule's settings as the API answers them (secrets masked), with these changes."""
    return {**api.get(f"/tracking-rules/{rule_id}").json["action_settings"], **changes}


def test_a_ping_urls_secrets_do_not_follow_a_changed_host(
        workers, api, http_sink, make_list, make_rule):
    port = http_sink.url.rsplit(":", 1)[1]
    rule_id = make_rule("ping_url", {"method": "GET", "url": f"{http_sink.url}/hook",
                                     "headers": {"Authorization": "Bearer s3cr3t", "X-Plain": "1"},
                                     "signing_secret": SECRET})
    # localhost reaches the same sink, as another host name: whoever edits names their own server.
    moved = api.patch(f"/tracking-rules/{rule_id}", {"action_settings": echoed(
        api, rule_id, url=f"http://localhost:{port}/hook")})
    workers.start(1)
    opt_out_list = make_list()
    add_emails(api, opt_out_list, "first@example.com")
    settled(1)
    [first] = http_sink.received("/hook")
    # The secret went where it was typed for, never to the new host.
    assert (first.headers["host"], first.headers.get("authorization")) == \
        (f"127.0.0.1:{port}", "Bearer s3cr3t")
    assert moved.status_code == 422, moved.json
    assert moved.json["error"]["fields"] == {"action_settings.headers": [AGAIN],
                                             "action_settings.signing_secret": [AGAIN]}
    assert stored(rule_id)["url"] == f"{http_sink.url}/hook"

    # Left out, the secrets are dropped with the change.
    settings = echoed(api, rule_id, url=f"http://localhost:{port}/hook", headers={"X-Plain": "1"},
                      secret_headers=[])
    del settings["signing_secret"]
    assert api.patch(f"/tracking-rules/{rule_id}", {"action_settings": settings}).status_code == 200
    assert (stored(rule_id)["signing_secret"], stored(rule_id)["headers"]) == ("", {"X-Plain": "1"})
    add_emails(api, opt_out_list, "second@example.com")
    settled(2)
    second = http_sink.received("/hook")[1]
    assert second.headers["host"] == f"localhost:{port}"
    assert "authorization" not in second.headers and "webhook-signature" not in second.headers


@pytest.mark.parametrize("url", ["https://127.0.0.1:{port}/hook", "http://127.0.0.1:8443/hook",
                                 "http://127.0.0.2:{port}/hook"], ids=["scheme", "port", "host"])
def test_any_change_of_scheme_port_or_host_unbinds(api, http_sink, make_rule, url):
    port = http_sink.url.rsplit(":", 1)[1]
    rule_id = make_rule("ping_url", {"method": "GET", "url": f"{http_sink.url}/hook",
                                     "headers": {"X-Api-Key": "k3y"}, "signing_secret": SECRET})
    response = api.patch(f"/tracking-rules/{rule_id}", {"action_settings": echoed(
        api, rule_id, url=url.format(port=port))})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"action_settings.headers",
                                                     "action_settings.signing_secret"}
    # The path, the query and the method are not the target: the mask keeps the secrets.
    same = echoed(api, rule_id, url=f"{http_sink.url}/other?e={{{{email}}}}", method="POST")
    assert api.patch(f"/tracking-rules/{rule_id}", {"action_settings": same}).status_code == 200
    assert stored(rule_id)["headers"] == {"X-Api-Key": "k3y"}
    assert stored(rule_id)["signing_secret"] == SECRET


@pytest.fixture
def other_smtp_server():
    """A second real SMTP server, standing for the server of whoever edits the rule."""
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


def test_an_smtp_password_does_not_follow_a_changed_connection(
        workers, api, smtp_server, other_smtp_server, make_list, make_rule):
    for server in (smtp_server, other_smtp_server):
        server.credentials = {"relay": "relay-pa55"}
    rule_id = make_rule("smtp", {
        "connection": "custom", "host": "127.0.0.1", "port": smtp_server.port,
        "security": "none", "username": "relay", "password": "relay-pa55",
        "from": "alerts@example.com", "to": ["dpo@example.com"], "subject": "{{contact}}",
        "body": "b"})
    moved = api.patch(f"/tracking-rules/{rule_id}", {"action_settings": echoed(
        api, rule_id, port=other_smtp_server.port)})
    workers.start(1)
    opt_out_list = make_list()
    add_emails(api, opt_out_list, "first@example.com")
    settled(1)
    # No login reached the other server with the stored password; the message went where it was.
    assert other_smtp_server.logins == [] and other_smtp_server.messages == []
    assert smtp_server.logins == ["relay"] and len(smtp_server.messages) == 1
    assert moved.status_code == 422, moved.json
    assert moved.json["error"]["fields"] == {"action_settings.password": [AGAIN]}
    for changes in ({"host": "localhost"}, {"username": "other"}, {"security": "starttls"}):
        response = api.patch(f"/tracking-rules/{rule_id}",
                             {"action_settings": echoed(api, rule_id, **changes)})
        assert response.json["error"]["fields"] == {"action_settings.password": [AGAIN]}, changes

    # With the password left out the change is saved, and no stored password goes along.
    assert api.patch(f"/tracking-rules/{rule_id}", {"action_settings": echoed(
        api, rule_id, port=other_smtp_server.port, username="", password="")}).status_code == 200
    assert stored(rule_id)["password"] == ""
    add_emails(api, opt_out_list, "second@example.com")
    settled(2)
    assert other_smtp_server.logins == [] and len(other_smtp_server.messages) == 1


BASE = "/tracking/project/0/rules"


def _ping_form(**fields):
    return {"trigger": "contact_added", "action": "ping_url", "method": "GET", "timeout": "10",
            "url": "https://hooks.example.invalid/in", **fields}


def test_the_pop_up_says_so_and_empties_the_secrets_when_the_host_changes(as_admin, field_errors):
    as_admin.htmx("post", BASE, data=_ping_form(headers="Authorization: Bearer tok3n\nX-A: b",
                                                signing_secret=SECRET))
    rule = db.session.scalars(sa.select(TrackingRule)).one()
    edit = as_admin.htmx("get", f"{BASE}/{rule.id}/edit").get_data(as_text=True)
    assert "Changing the URL&#39;s host drops the stored secrets unless you type them again" in edit

    page = as_admin.htmx("post", f"{BASE}/{rule.id}", data=_ping_form(
        url="https://elsewhere.example.invalid/in", headers="Authorization: ********\nX-A: b",
        signing_secret=MASK)).get_data(as_text=True)
    assert field_errors(page) == {"headers": [AGAIN], "signing_secret": [AGAIN]}
    # The masks are gone from the fields: the old secrets cannot be sent back by a second Save.
    assert 'name="signing_secret" type="password" value=""' in page and "tok3n" not in page
    assert "Authorization: \nX-A: b</textarea>" in html.unescape(page)
    assert stored(rule.id)["url"] == "https://hooks.example.invalid/in"


def test_the_pop_up_says_so_beside_the_smtp_password(as_admin, field_errors):
    form = {"trigger": "contact_added", "action": "smtp", "connection": "custom",
            "host": "smtp.example.invalid", "port": "587", "security": "starttls",
            "username": "relay", "password": "relay-pa55", "from": "alerts@example.com",
            "to": "dpo@example.com", "subject": "s", "body": "b"}
    as_admin.htmx("post", BASE, data=form)
    rule = db.session.scalars(sa.select(TrackingRule)).one()
    edit = as_admin.htmx("get", f"{BASE}/{rule.id}/edit").get_data(as_text=True)
    assert "Changing the host, port, security or user drops the stored password unless you " \
           "type it again" in edit
    page = as_admin.htmx("post", f"{BASE}/{rule.id}", data={
        **form, "host": "smtp.elsewhere.invalid", "password": MASK}).get_data(as_text=True)
    assert field_errors(page) == {"password": [AGAIN]}
    assert 'name="password" type="password" value=""' in page
    assert stored(rule.id)["password"] == "relay-pa55"


SETTINGS_URL = "/settings/opt-intel/settings"
SETTINGS_FORM = {"default_phone_region": "US", "smtp_host": "smtp.example.invalid",
                 "smtp_port": "587", "smtp_security": "starttls", "smtp_username": "relay",
                 "smtp_from": "alerts@example.com", "retry_schedule": "0, 5"}


@pytest.mark.parametrize("change", [{"smtp_host": "smtp.elsewhere.invalid"}, {"smtp_port": "2525"},
                                    {"smtp_security": "none"}, {"smtp_username": "other"}],
                         ids=["host", "port", "security", "user"])
def test_the_default_smtp_password_is_dropped_when_its_connection_changes(as_admin, change):
    from optintel import secrets
    from optintel.models import ProjectSettings

    def password():
        db.session.rollback()
        return secrets.decrypt(ProjectSettings.get().smtp_password_encrypted)
    as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "smtp_password": "relay-pa55"})
    as_admin.post_form(SETTINGS_URL, SETTINGS_FORM)
    assert password() == "relay-pa55"  # the same connection keeps it
    page = as_admin.get(SETTINGS_URL).get_data(as_text=True)
    assert "Changing the host, port, security or user drops it unless you type it again." in page
    as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, **change})
    assert password() == ""
    as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "smtp_password": "new-pa55", **change})
    assert password() == "new-pa55"
