"""The five actions end to end: a contact added through the API, a real worker process, and a
real HTTP sink or SMTP server on loopback receiving what the rule says, rendered and escaped."""
import base64
import json
from urllib.parse import parse_qs

import sqlalchemy as sa
from standardwebhooks import Webhook

from optintel import secrets
from optintel.extensions import db
from optintel.models import (Attempt, Contact, ContactSource, Delivery, DeliveryStatus, Event,
                             ProjectSettings, Trigger)

from conftest import fresh, wait_for

SECRET = "whsec_" + base64.b64encode(b"opt-intel-end-to-end-signing-key").decode()
TRICKY_LIST = 'Bob\'s "VIP" list & co'
RAW_EMAIL = " Jane+News@Example.com "
EMAIL = "jane+news@example.com"
MASK = "********"


def finished(count):
    """Wait until `count` deliveries exist and none is pending or retrying; returns them."""
    def done():
        rows = fresh(sa.select(Delivery).order_by(Delivery.id))
        in_flight = {DeliveryStatus.PENDING, DeliveryStatus.RETRYING}
        return rows if len(rows) == count and not any(r.status in in_flight for r in rows) else None
    # Generous: a worker booting on a loaded machine takes seconds.
    return wait_for(done, 60, message=f"{count} deliveries to finish")


def delivery_of(rule_id):
    return fresh(sa.select(Delivery).where(Delivery.rule_id == rule_id))[0]


def attempts_of(delivery_id):
    return fresh(sa.select(Attempt).where(Attempt.delivery_id == delivery_id)
                 .order_by(Attempt.number))


def add_contact(api, opt_out_list, value=RAW_EMAIL, **attribution):
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add",
                        {"emails": [value], **attribution})
    assert response.status_code == 200 and response.json["added"] == 1, response.json
    return fresh(sa.select(Event).where(Event.list_id == opt_out_list.id))[-1]


def test_ping_url_get_renders_the_url_escaped_and_sends_the_headers(
        workers, api, http_sink, make_list, make_rule):
    workers.start(1)
    opt_out_list = make_list(name=TRICKY_LIST)
    rule_id = make_rule("ping_url", {
        "method": "GET", "url": http_sink.url + "/get?email={{email}}&list={{list_name}}",
        "headers": {"X-List": "{{list_name}}", "X-Rule": "{{rule_id}}",
                    "Authorization": "Bearer token-{{event_id}}"}})
    event = add_contact(api, opt_out_list)

    [delivery] = finished(1)
    [request] = http_sink.received("/get")
    assert request.method == "GET" and request.body == b""
    # '+' would read as a space and '&' would split the query if they were not encoded.
    assert request.path == "/get?email=jane%2Bnews%40example.com" \
                           "&list=Bob%27s%20%22VIP%22%20list%20%26%20co"
    assert request.query == {"email": [EMAIL], "list": [TRICKY_LIST]}
    assert request.headers["x-list"] == TRICKY_LIST
    assert request.headers["x-rule"] == str(rule_id)
    assert request.headers["authorization"] == f"Bearer token-{event.id}"
    assert "webhook-signature" not in request.headers

    assert (delivery.status, delivery.attempts, delivery.last_response_status) == \
        (DeliveryStatus.SUCCEEDED, 1, 200)
    [attempt] = attempts_of(delivery.id)
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_body == "ok"
    assert attempt.request["method"] == "GET"
    assert attempt.request["url"] == http_sink.url + request.path
    # The credential reached the receiver but the log keeps it masked.
    assert attempt.request["headers"]["Authorization"] == MASK
    assert attempt.request["headers"]["X-List"] == TRICKY_LIST


def test_ping_url_post_bodies_are_escaped_for_their_type_and_signed(
        workers, api, http_sink, make_list, make_mailer, make_rule):
    workers.start(1)
    opt_out_list, mailer = make_list(name=TRICKY_LIST), make_mailer(company_name="Acme \"Mail\"")
    post = {"method": "POST", "timeout": 5}
    make_rule("ping_url", {**post, "url": http_sink.url + "/json", "content_type": "json",
                           "body": '{"email": "{{email}}", "list": "{{list_name}}", '
                                   '"mailer": "{{mailer_name}}", "event": {{event_id}}}'})
    make_rule("ping_url", {**post, "url": http_sink.url + "/form", "content_type": "form",
                           "body": "email={{email}}&list={{list_name}}"})
    make_rule("ping_url", {**post, "url": http_sink.url + "/text", "content_type": "text",
                           "body": "{{contact}} left {{list_name}} via {{source}}"})
    signed_rule = make_rule("ping_url", {**post, "url": http_sink.url + "/signed",
                                         "content_type": "json", "signing_secret": SECRET})
    event = add_contact(api, opt_out_list, mailer_id=mailer.id)

    finished(4)
    [as_json] = http_sink.received("/json")
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.body) == {"email": EMAIL, "list": TRICKY_LIST,
                                        "mailer": 'Acme "Mail"', "event": event.id}
    [as_form] = http_sink.received("/form")
    assert as_form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(as_form.body.decode(), strict_parsing=True) == {"email": [EMAIL],
                                                                    "list": [TRICKY_LIST]}
    [as_text] = http_sink.received("/text")
    assert as_text.headers["content-type"] == "text/plain; charset=utf-8"
    assert as_text.body.decode() == f"{EMAIL} left {TRICKY_LIST} via api"

    [signed] = http_sink.received("/signed")
    payload = Webhook(SECRET).verify(signed.body, signed.headers)
    delivery = delivery_of(signed_rule)
    assert signed.headers["webhook-id"] == str(delivery.id)
    # Without a body template the JSON body carries every placeholder value.
    assert payload["email"] == EMAIL and payload["list_name"] == TRICKY_LIST
    assert payload["event_id"] == str(event.id) and payload["rule_id"] == str(signed_rule)
    assert payload["mailer_name"] == 'Acme "Mail"' and payload["source"] == "api"
    assert attempts_of(delivery.id)[0].request["headers"]["webhook-signature"] == MASK
    assert all(d.status == DeliveryStatus.SUCCEEDED for d in fresh(sa.select(Delivery)))


def test_smtp_email_through_a_custom_and_the_default_connection(
        workers, api, smtp_server, make_list, make_mailer, make_rule):
    workers.start(1)
    settings = ProjectSettings.get()
    settings.smtp_host, settings.smtp_port, settings.smtp_security = \
        "127.0.0.1", smtp_server.port, "none"
    settings.smtp_username = "relay"
    settings.smtp_password_encrypted = secrets.encrypt("relay-pa55")
    db.session.commit()
    smtp_server.credentials = {"relay": "relay-pa55"}
    opt_out_list, mailer = make_list(name=TRICKY_LIST), make_mailer(company_name="Acme Mail")
    message = {"from": "alerts@optintel.example", "to": ["{{email}}", "compliance@example.com"],
               "subject": "Opt-out: {{contact}} on {{list_name}}",
               "body": "{{contact}} was added to {{list_name}} by {{mailer_name}}."}
    custom = make_rule("smtp", {**message, "connection": "custom", "host": "127.0.0.1",
                                "port": smtp_server.port, "security": "none"})
    default = make_rule("smtp", {**message, "connection": "default",
                                 "subject": "Default: {{contact}}", "to": ["dpo@example.com"]})
    add_contact(api, opt_out_list, mailer_id=mailer.id)

    finished(2)
    by_subject = {m.message["Subject"]: m for m in smtp_server.messages}
    assert set(by_subject) == {f"Opt-out: {EMAIL} on {TRICKY_LIST}", f"Default: {EMAIL}"}
    sent = by_subject[f"Opt-out: {EMAIL} on {TRICKY_LIST}"]
    assert sent.mail_from == "alerts@optintel.example"
    assert sent.rcpt_tos == [EMAIL, "compliance@example.com"]
    assert sent.message["From"] == "alerts@optintel.example"
    assert sent.message["To"] == f"{EMAIL}, compliance@example.com"
    assert sent.message.get_content().strip() == f"{EMAIL} was added to {TRICKY_LIST} by Acme Mail."
    assert by_subject[f"Default: {EMAIL}"].rcpt_tos == ["dpo@example.com"]
    # Only the default connection logs in, with the password decrypted from the settings.
    assert smtp_server.logins == ["relay"]

    for rule_id in (custom, default):
        delivery = delivery_of(rule_id)
        assert (delivery.status, delivery.last_response_status) == (DeliveryStatus.SUCCEEDED, 250)
    [attempt] = attempts_of(delivery_of(default).id)
    assert attempt.request["password"] == MASK and attempt.request["username"] == "relay"
    assert attempt.request["host"] == "127.0.0.1" and attempt.request["to"] == ["dpo@example.com"]


def test_add_and_remove_change_target_lists_which_fire_their_own_rules(
        workers, api, http_sink, make_list, make_mailer, make_rule):
    workers.start(1)
    source, added_to, removed_from = make_list(name="Source"), make_list(name="Partner"), \
        make_list(name="Re-engage")
    add_contact(api, removed_from, EMAIL)
    mailer = make_mailer()
    make_rule("add_to_list", {"list_id": added_to.id}, "email_list", source.id)
    make_rule("remove_from_list", {"list_id": removed_from.id}, "email_list", source.id)
    ping = make_rule("ping_url", {"method": "GET", "url": http_sink.url +
                                  "/chained?contact={{contact}}&source={{source}}"},
                     "email_list", added_to.id)
    slack = make_rule("slack", {"webhook_url": http_sink.url + "/services/T0/B0/hook-secret",
                                "text": "{{contact}} left {{list_name}} ({{trigger}}, {{source}})"},
                      "email_list", removed_from.id, trigger="contact_deleted")
    first = add_contact(api, source, mailer_id=mailer.id)

    deliveries = finished(4)
    assert {d.status for d in deliveries} == {DeliveryStatus.SUCCEEDED}
    assert fresh(sa.select(Contact.value).where(Contact.list_id == added_to.id)) == [EMAIL]
    assert fresh(sa.select(Contact.value).where(Contact.list_id == removed_from.id)) == []

    [caused_add] = fresh(sa.select(Event).where(Event.list_id == added_to.id))
    [caused_remove] = fresh(sa.select(Event).where(Event.list_id == removed_from.id,
                                                   Event.trigger == Trigger.CONTACT_DELETED))
    for event, trigger in ((caused_add, Trigger.CONTACT_ADDED),
                           (caused_remove, Trigger.CONTACT_DELETED)):
        assert (event.trigger, event.source, event.contact) == \
            (trigger, ContactSource.ACTION, EMAIL)
        assert (event.caused_by_event_id, event.depth) == (first.id, 1)
        assert event.mailer_id == mailer.id
    assert delivery_of(ping).event_id == caused_add.id
    assert delivery_of(slack).event_id == caused_remove.id

    [chained] = http_sink.received("/chained")
    assert chained.query == {"contact": [EMAIL], "source": ["action"]}
    [posted] = http_sink.received("/services/T0/B0/hook-secret")
    assert posted.method == "POST" and posted.headers["content-type"] == "application/json"
    assert json.loads(posted.body) == {"text": f"{EMAIL} left Re-engage (contact_deleted, action)"}
    # The webhook URL is the credential: the log shows its host only.
    [attempt] = attempts_of(delivery_of(slack).id)
    assert "hook-secret" not in json.dumps(attempt.request)
    assert attempt.request["url"] == f"{http_sink.url}/{MASK}"
