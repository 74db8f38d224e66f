"""Targets are judged when a rule is saved, through the API and the pop-up, as they are when it
is sent: malformed hosts always, refused addresses unless OPTINTEL_ALLOW_PRIVATE_TARGETS is on
(the error names Project Settings' Allowed Target Networks); the default SMTP connection
likewise in Project Settings."""
import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import DeliveryStatus, ProjectSettings, TrackingRule

from test_pipeline_faults import add_emails, attempts_of, project_settings, settled

WHERE = "To allow it, add its network to Project Settings > Opt-Intel > Allowed Target Networks."
MESSAGE = {"from": "alerts@example.com", "to": ["dpo@example.com"], "subject": "s", "body": "b"}


def ping(url):
    return "ping_url", {"method": "GET", "url": url}, "url"


def slack(url):
    return "slack", {"webhook_url": url, "text": "{{contact}}"}, "webhook_url"


def smtp(host):
    return "smtp", {**MESSAGE, "connection": "custom", "host": host, "port": 25,
                    "security": "none"}, "host"


def create(api, action, settings):
    return api.post("/tracking-rules", {"level": "project", "trigger": "contact_added",
                                        "action": action, "action_settings": settings})


@pytest.fixture
def production(app):
    """The app refusing non-public targets, as it does unless told otherwise."""
    app.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"] = False
    return app


REFUSED = [
    (ping("http://169.254.169.254/latest/meta-data/"), f"169.254.169.254 is not a public address. {WHERE}"),
    (ping("https://[64:ff9b::a9fe:a9fe]/{{email}}"),
     f"64:ff9b::a9fe:a9fe wraps 169.254.169.254, which is not a public address. {WHERE}"),
    (slack("http://localhost:8080/services/T0/B0/x"),
     f"localhost resolves to 127.0.0.1, which is not a public address. {WHERE}"),
    (smtp("127.0.0.1"), f"127.0.0.1 is not a public address. {WHERE}"),
    (smtp("localhost"), f"localhost resolves to 127.0.0.1, which is not a public address. {WHERE}"),
]


IDS = ["metadata", "nat64-metadata", "slack-localhost", "smtp-loopback", "smtp-localhost"]


@pytest.mark.parametrize("target, message", REFUSED, ids=IDS)
def test_a_refused_target_is_refused_at_save_beside_its_field(production, api, target, message):
    action, settings, field = target
    response = create(api, action, settings)
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"] == {f"action_settings.{field}": [message]}
    assert db.session.scalars(sa.select(TrackingRule)).all() == []


@pytest.mark.parametrize("target, message", REFUSED, ids=IDS)
def test_allowed_networks_and_the_development_setting_let_it_be_saved(production, api, target,
                                                                      message):
    action, settings, field = target
    project_settings(allowed_target_cidrs="127.0.0.0/8\n169.254.0.0/16")
    assert create(api, action, settings).status_code == 201
    project_settings(allowed_target_cidrs="")
    production.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"] = True
    assert create(api, action, settings).status_code == 201


@pytest.mark.parametrize("target", [
    ping("https://hooks.example.invalid/in"),  # does not resolve yet: judged when sent
    ping("https://{{list_name}}.internal/in"),  # the host has a placeholder: judged when sent
    ping("https://93.184.216.34/in?e={{email}}"),
    slack("https://hooks.example.invalid/services/T0/B0/x"),
    smtp("smtp.example.invalid"),
], ids=lambda v: v[1].get("url") or v[1].get("webhook_url") or v[1]["host"])
def test_public_unresolved_and_templated_hosts_are_saved(production, api, target):
    action, settings, _ = target
    assert create(api, action, settings).status_code == 201


def test_a_refused_target_shows_beside_its_field_in_the_pop_up(production, as_admin, field_errors):
    base = "/tracking/project/0/rules"
    forms = [({"action": "ping_url", "method": "GET", "url": "http://169.254.169.254/x",
               "timeout": "10"}, "url", "169.254.169.254"),
             ({"action": "slack", "webhook_url": "http://127.0.0.1/services/x", "text": "t"},
              "webhook_url", "127.0.0.1"),
             ({"action": "smtp", "connection": "custom", "host": "localhost", "port": "25",
               "security": "none", **MESSAGE, "to": "dpo@example.com"}, "host",
              "localhost resolves to 127.0.0.1, which")]
    for form, field, start in forms:
        page = as_admin.htmx("post", base, data={"trigger": "contact_added", **form})
        html = page.get_data(as_text=True)
        assert "<dialog" in html
        [message] = field_errors(html)[field]
        assert message.startswith(start) and message.endswith(WHERE)
    assert db.session.scalars(sa.select(TrackingRule)).all() == []


MALFORMED = [
    ("a..b.example.com", "a label between dots is empty"),
    (".example.com", "a label between dots is empty"),
    ("x" * 64 + ".example.com", "a label between dots is longer than 63 characters"),
    (".".join(["a" * 63] * 4), "it is longer than 253 characters"),
    ("foo_bar.example.com", "'_' is not allowed in a host name"),
    ("-edge.example.com", "hyphen"),
]


@pytest.mark.parametrize("host, reason", MALFORMED, ids=[m[1][:25] for m in MALFORMED])
@pytest.mark.parametrize("kind", ["url", "webhook_url", "host"])
def test_a_malformed_host_is_refused_at_save(api, host, reason, kind):
    action, settings, field = {"url": ping(f"https://{host}/in?e={{{{email}}}}"),
                               "webhook_url": slack(f"https://{host}/services/x"),
                               "host": smtp(host)}[kind]
    response = create(api, action, settings)
    assert response.status_code == 422, response.json
    [message] = response.json["error"]["fields"][f"action_settings.{field}"]
    assert "is not a valid host name" in message and reason in message


def test_a_host_made_malformed_by_a_placeholder_fails_once_with_a_clear_error(
        workers, api, http_sink, make_list, make_rule):
    """Judged when sent: the rendered host is not a host name, which no retry can change."""
    workers.start(1)
    make_rule("ping_url", {"method": "GET", "url": "http://{{list_name}}.example.com/hook"})
    add_emails(api, make_list(name="x..y"), "ann@example.com")
    [delivery] = settled(1, (DeliveryStatus.FAILED,))
    [attempt] = attempts_of(delivery.id)
    assert attempt.error == ("x..y.example.com is not a valid host name: a label between dots "
                             "is empty.")


SETTINGS_URL = "/settings/opt-intel/settings"
SETTINGS_FORM = {"default_phone_region": "US", "smtp_port": "25", "smtp_security": "none",
                 "smtp_from": "alerts@example.com", "retry_schedule": "0, 5"}


def test_the_default_smtp_host_is_judged_when_project_settings_are_saved(production, as_admin,
                                                                         field_errors):
    page = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "smtp_host": "a..b"})
    assert field_errors(page.get_data(as_text=True)) == {
        "smtp_host": ["a..b is not a valid host name: a label between dots is empty."]}
    page = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "smtp_host": "127.0.0.1"})
    assert field_errors(page.get_data(as_text=True)) == {
        "smtp_host": [f"127.0.0.1 is not a public address. {WHERE}"]}
    db.session.rollback()
    assert ProjectSettings.get().smtp_host in (None, "")
    # The networks allowed in the same form count.
    response = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "smtp_host": "127.0.0.1",
                                                 "allowed_target_cidrs": "127.0.0.0/8"})
    assert response.status_code == 302
    db.session.rollback()
    assert ProjectSettings.get().smtp_host == "127.0.0.1"
