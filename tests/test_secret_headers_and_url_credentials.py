"""Header values marked secret (credential-like names are by default), a URL's userinfo and the
values of its credential-like query parameters: stored encrypted, masked wherever the rule or
its requests are shown (rules table, pop-up, API, Tracking Log, Test Runs), sent for real."""
import base64
import json

import pytest

from optintel.extensions import db
from optintel.models import TrackingRule
from optintel.rules.storage import stored_settings

from conftest import wait_for
from test_pipeline_faults import add_emails, attempts_of, settled

MASK = "********"
BASE = "/tracking/project/0/rules"
SECRETS = ("relay", "pa55w0rd", "t0ken-1", "ak3y-2", "c0ffee-3", "k3y-4")
SETTINGS = {"method": "GET",
            "url": "https://relay:pa55w0rd@hooks.example.invalid/in?token=t0ken-1&e={{email}}"
                   "&api_key=ak3y-2",
            "headers": {"X-Custom": "c0ffee-3", "X-Api-Key": "k3y-4", "X-Plain": "visible"},
            "secret_headers": ["X-Custom"]}
MASKED_URL = f"https://{MASK}@hooks.example.invalid/in?token={MASK}&e={{{{email}}}}&api_key={MASK}"


def create(api, settings):
    return api.post("/tracking-rules", {"level": "project", "trigger": "contact_added",
                                        "action": "ping_url", "action_settings": settings})


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text, secret


def full(rule_id):
    db.session.expire_all()
    return stored_settings(db.session.get(TrackingRule, rule_id))


def test_marked_headers_and_url_credentials_are_stored_encrypted_and_shown_masked(api, as_admin):
    created = create(api, SETTINGS)
    assert created.status_code == 201, created.json
    shown = created.json["action_settings"]
    assert shown["url"] == MASKED_URL
    assert shown["headers"] == {"X-Custom": MASK, "X-Api-Key": MASK, "X-Plain": "visible"}
    assert sorted(shown["secret_headers"]) == ["X-Api-Key", "X-Custom"]
    assert_no_secret(json.dumps(created.json))
    rule = db.session.get(TrackingRule, created.json["id"])
    assert_no_secret(json.dumps(rule.action_settings) + rule.secret_settings)
    assert rule.host == "hooks.example.invalid"

    table = as_admin.htmx("get", BASE).get_data(as_text=True)
    assert_no_secret(table)
    assert "hooks.example.invalid/in?token=" in table and "X-Plain: visible" in table
    edit = as_admin.htmx("get", f"{BASE}/{rule.id}/edit").get_data(as_text=True)
    assert_no_secret(edit)
    assert "X-Custom: ********" in edit
    assert 'value="X-Api-Key, X-Custom"' in edit or 'value="X-Custom, X-Api-Key"' in edit

    # Sent back masked, to the same target, the URL keeps its credentials.
    echoed = {**shown, "url": MASKED_URL.replace("/in?", "/v2?")}
    assert api.patch(f"/tracking-rules/{rule.id}", {"action_settings": echoed}).status_code == 200
    assert full(rule.id)["url"] == SETTINGS["url"].replace("/in?", "/v2?")
    assert full(rule.id)["headers"] == SETTINGS["headers"]


@pytest.mark.parametrize("secret_headers, message", [
    (["X-Nope"], "Not among the headers: X-Nope."),
    (5, "Give the names of the secret headers as a list."),
])
def test_secret_headers_name_headers_of_the_rule(api, secret_headers, message):
    response = create(api, {**SETTINGS, "secret_headers": secret_headers})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"action_settings.secret_headers": [message]}


def test_the_pop_up_marks_secret_headers(as_admin):
    response = as_admin.htmx("post", BASE, data={
        "trigger": "contact_added", "action": "ping_url", "method": "GET", "timeout": "10",
        "url": "https://hooks.example.invalid/in", "headers": "X-Custom: c0ffee-3\nX-Plain: v",
        "secret_headers": "x-custom"})
    assert response.status_code == 200 and response.data == b""
    rule = db.session.query(TrackingRule).one()
    assert full(rule.id)["headers"] == {"X-Plain": "v", "X-Custom": "c0ffee-3"}
    assert_no_secret(json.dumps(rule.action_settings))
    table = as_admin.htmx("get", BASE).get_data(as_text=True)
    assert "X-Custom: ********" in table and "c0ffee-3" not in table


def test_the_request_carries_the_secrets_and_every_record_of_it_masks_them(
        workers, api, as_admin, http_sink, make_list, make_rule):
    port = http_sink.url.rsplit(":", 1)[1]
    rule_id = make_rule("ping_url", {
        "method": "GET", "url": f"http://relay:pa55w0rd@127.0.0.1:{port}/hook?token=t0ken-1"
                                "&e={{email}}",
        "headers": {"X-Custom": "c0ffee-3", "X-Plain": "visible"}, "secret_headers": ["X-Custom"]})
    workers.start(1)
    add_emails(api, make_list(), "ann@example.com")
    [delivery] = settled(1)

    [received] = http_sink.received("/hook")
    assert received.query == {"token": ["t0ken-1"], "e": ["ann@example.com"]}
    assert received.headers["authorization"] == "Basic " + base64.b64encode(b"relay:pa55w0rd").decode()
    assert (received.headers["x-custom"], received.headers["x-plain"]) == ("c0ffee-3", "visible")

    [attempt] = attempts_of(delivery.id)
    assert attempt.request["url"] == \
        f"http://{MASK}@127.0.0.1:{port}/hook?token={MASK}&e=ann%40example.com"
    assert attempt.request["headers"]["X-Custom"] == MASK
    assert attempt.request["headers"]["Authorization"] == MASK
    assert attempt.request["headers"]["X-Plain"] == "visible"
    listing = as_admin.get("/logs/").get_data(as_text=True)
    assert "127.0.0.1" in listing  # the Host column stays the host
    for text in (listing, as_admin.htmx("POST", f"/logs/deliveries/{delivery.id}/log").get_data(
                     as_text=True),
                 json.dumps(api.get(f"/deliveries/{delivery.id}").json),
                 json.dumps(api.get("/tracking-log").json)):
        assert_no_secret(text)

    started = api.post(f"/tracking-rules/{rule_id}/test-run", {"values": {}})
    assert started.status_code == 202
    run = wait_for(lambda: (r := api.get(f"/test-runs/{started.json['id']}").json)["completed_at"]
                   and r, message="the test run")
    assert run["status"] == "succeeded" and run["request"]["url"].startswith(f"http://{MASK}@")
    assert len(http_sink.received("/hook")) == 2
    assert http_sink.received("/hook")[1].headers["x-custom"] == "c0ffee-3"
    for text in (json.dumps(run), as_admin.get("/logs/test-runs").get_data(as_text=True),
                 as_admin.htmx("POST", f"/logs/test-runs/{run['id']}/log").get_data(as_text=True)):
        assert_no_secret(text)


def test_the_api_documents_secret_headers_and_the_binding(api):
    document = json.dumps(api.get("/openapi.json").json)
    assert "secret_headers: [names of headers whose values are secrets" in document
    assert "with a changed target it is refused" in document


def test_url_credentials_do_not_follow_a_changed_host(api, as_admin, field_errors):
    rule_id = create(api, SETTINGS).json["id"]
    moved = {**SETTINGS, "headers": {"X-Plain": "visible"}, "secret_headers": [],
             "url": MASKED_URL.replace("hooks.example.invalid", "elsewhere.example.invalid")}
    response = api.patch(f"/tracking-rules/{rule_id}", {"action_settings": moved})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "action_settings.url": ["The target changed: type the secret again."]}
    assert full(rule_id)["url"] == SETTINGS["url"]
    # In the pop-up the URL comes back without its masked credentials, to be typed again.
    page = as_admin.htmx("post", f"{BASE}/{rule_id}", data={
        "trigger": "contact_added", "action": "ping_url", "method": "GET", "timeout": "10",
        "url": moved["url"], "headers": "X-Plain: visible"}).get_data(as_text=True)
    assert field_errors(page) == {"url": ["The target changed: type the secret again."]}
    assert 'value="https://elsewhere.example.invalid/in?token=&amp;e={{email}}&amp;api_key="' in page
