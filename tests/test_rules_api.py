"""The tracking rules API: contract, validation rules of SPEC §5–§6, secrets, roles."""
import json

import pytest

from optintel.extensions import db
from optintel.models import Channel, ListKind, ProjectSettings, Role, Storage, TrackingRule

PING = {"method": "POST", "url": "https://hooks.example.com/in?e={{email}}",
        "headers": {"X-List": "{{list_name}}"}, "content_type": "json",
        "body": '{"email": "{{email}}", "md5": "{{contact_md5}}"}', "timeout": 5}


def ping_rule(level="project", scope_id=None, **overrides):
    return {"level": level, "scope_id": scope_id, "trigger": "contact_added", "action": "ping_url",
            "trigger_settings": {}, "action_settings": dict(PING), **overrides}


def test_create_answers_201_with_the_rule(api, make_list, make_mailer):
    lst, mailer = make_list(), make_mailer()
    body = ping_rule(trigger_settings={"contact_list_ids": [lst.id], "mailer_ids": [mailer.id]})
    response = api.post("/tracking-rules", body)
    assert response.status_code == 201, response.json
    rule = response.json
    assert rule["id"] and rule["level"] == "project" and rule["scope_id"] is None
    assert rule["trigger_settings"] == {"contact_list_ids": [lst.id], "mailer_ids": [mailer.id]}
    assert rule["action_settings"]["url"] == PING["url"]
    assert rule["status"] == "active" and rule["author"].endswith("@example.com")
    assert rule["created_at"] and rule["updated_at"] and rule["adjacent_rule_ids"] == []
    assert api.get(f"/tracking-rules/{rule['id']}").json == rule


def test_list_filters(api, make_list):
    lst = make_list()
    api.post("/tracking-rules", ping_rule())
    api.post("/tracking-rules", ping_rule("email_list", lst.id, trigger="contact_deleted"))
    api.post("/tracking-rules", ping_rule(status="disabled"))
    assert len(api.get("/tracking-rules").json) == 3
    assert [r["scope_id"] for r in api.get("/tracking-rules?level=email_list").json] == [lst.id]
    assert len(api.get(f"/tracking-rules?scope_id={lst.id}").json) == 1
    assert len(api.get("/tracking-rules?trigger=contact_added").json) == 2
    assert len(api.get("/tracking-rules?status=disabled").json) == 1
    assert len(api.get("/tracking-rules?action=slack").json) == 0
    assert api.get("/tracking-rules?level=nowhere").status_code == 422


def test_patch_changes_and_records_who_and_when(api, make_list):
    rule = api.post("/tracking-rules", ping_rule()).json
    response = api.patch(f"/tracking-rules/{rule['id']}", {"status": "disabled",
                                                           "trigger": "contact_deleted"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "disabled" and response.json["trigger"] == "contact_deleted"
    assert response.json["updated_at"] >= rule["updated_at"]
    assert response.json["action_settings"] == rule["action_settings"]
    stored = db.session.get(TrackingRule, rule["id"])
    assert stored.updated_by is not None


def test_delete(api):
    rule = api.post("/tracking-rules", ping_rule()).json
    assert api.delete(f"/tracking-rules/{rule['id']}").status_code == 204
    assert api.get(f"/tracking-rules/{rule['id']}").status_code == 404


def test_level_and_scope_cannot_change(api, make_list):
    rule = api.post("/tracking-rules", ping_rule()).json
    assert api.patch(f"/tracking-rules/{rule['id']}", {"level": "email_list"}).status_code == 422


def test_secrets_are_write_only_and_encrypted(api, app):
    settings = {**PING, "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "headers": {"Authorization": "Bearer s3cr3t-token", "X-Plain": "visible"}}
    rule = api.post("/tracking-rules", ping_rule(action_settings=settings)).json
    assert rule["action_settings"]["signing_secret"] == "********"
    assert rule["action_settings"]["headers"] == {"X-Plain": "visible", "Authorization": "********"}
    stored = db.session.get(TrackingRule, rule["id"])
    raw_row = json.dumps(stored.action_settings) + stored.secret_settings
    assert "s3cr3t-token" not in raw_row and "MfKQ9r8GKYqr" not in raw_row
    # Sending the mask back keeps the stored secrets.
    echoed = {**rule["action_settings"], "url": "https://hooks.example.com/v2"}
    assert api.patch(f"/tracking-rules/{rule['id']}", {"action_settings": echoed}).status_code == 200
    from optintel.rules.storage import stored_settings
    db.session.expire_all()
    full = stored_settings(db.session.get(TrackingRule, rule["id"]))
    assert full["signing_secret"] == settings["signing_secret"]
    assert full["headers"]["Authorization"] == "Bearer s3cr3t-token"
    assert full["url"] == "https://hooks.example.com/v2"


def test_slack_webhook_and_smtp_password_are_secret(api):
    ProjectSettings.get().smtp_host = "smtp.example.com"
    db.session.commit()
    slack = api.post("/tracking-rules", ping_rule(action="slack", action_settings={
        "webhook_url": "https://hooks.slack.com/services/T0/B0/XYZ", "text": "{{contact}} added"}))
    assert slack.status_code == 201, slack.json
    assert slack.json["action_settings"]["webhook_url"] == "********"
    smtp = api.post("/tracking-rules", ping_rule(action="smtp", action_settings={
        "connection": "custom", "host": "127.0.0.1", "port": 2525, "security": "none",
        "username": "u", "password": "pa55word", "from": "alerts@example.com",
        "to": ["compliance@example.com", "{{email}}"], "subject": "Opt-out {{contact}}",
        "body": "{{contact}} opted out of {{list_name}}"}))
    assert smtp.status_code == 201, smtp.json
    assert smtp.json["action_settings"]["password"] == "********"
    assert "pa55word" not in json.dumps(smtp.json)


def errors_of(response):
    assert response.status_code == 422, response.json
    return response.json["error"]["fields"]


@pytest.mark.parametrize("settings, field, text", [
    ({"url": "ftp://example.com/x"}, "action_settings.url", "http"),
    ({"url": "https://example.com/{{nope}}"}, "action_settings.url", "{{nope}}"),
    ({"headers": {"Bad Header": "x"}}, "action_settings.headers", "not a valid header name"),
    ({"headers": {"X-A": "{{unknown_thing}}"}}, "action_settings.headers", "{{unknown_thing}}"),
    ({"body": '{"email": {{email}}'}, "action_settings.body", "JSON"),
    ({"body": "{{secret_sauce}}"}, "action_settings.body", "{{secret_sauce}}"),
    ({"timeout": 31}, "action_settings.timeout", "between 1 and 30"),
    ({"timeout": 0}, "action_settings.timeout", "between 1 and 30"),
    ({"method": "PUT"}, "action_settings.method", "GET"),
    ({"content_type": "xml"}, "action_settings.content_type", "json"),
    ({"signing_secret": "not base64!!"}, "action_settings.signing_secret", "Standard Webhooks"),
])
def test_ping_url_validation(api, settings, field, text):
    fields = errors_of(api.post("/tracking-rules", ping_rule(action_settings={**PING, **settings})))
    assert field in fields and text in " ".join(fields[field])


def test_json_body_is_valid_after_substitution(api):
    # Placeholders inside JSON strings are JSON-escaped; bare ones must still give valid JSON.
    body = '{"id": {{event_id}}, "contact": "{{contact}}"}'
    response = api.post("/tracking-rules", ping_rule(action_settings={**PING, "body": body}))
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("settings, field", [
    ({"connection": "custom", "host": "", "from": "a@example.com", "to": ["b@example.com"],
      "subject": "s", "body": "b"}, "action_settings.host"),
    ({"connection": "custom", "host": "h", "port": 70000, "from": "a@example.com",
      "to": ["b@example.com"], "subject": "s", "body": "b"}, "action_settings.port"),
    ({"connection": "custom", "host": "h", "from": "not-an-address", "to": ["b@example.com"],
      "subject": "s", "body": "b"}, "action_settings.from"),
    ({"connection": "custom", "host": "h", "from": "a@example.com", "to": [],
      "subject": "s", "body": "b"}, "action_settings.to"),
    ({"connection": "custom", "host": "h", "from": "a@example.com", "to": ["{{phone}}"],
      "subject": "s", "body": "b"}, "action_settings.to"),
    ({"connection": "custom", "host": "h", "from": "a@example.com", "to": ["b@example.com"],
      "subject": "{{whoops}}", "body": "b"}, "action_settings.subject"),
    ({"connection": "default", "from": "a@example.com", "to": ["b@example.com"],
      "subject": "s", "body": "b"}, "action_settings.connection"),
])
def test_smtp_validation(api, settings, field):
    assert field in errors_of(api.post("/tracking-rules", ping_rule(action="smtp",
                                                                    action_settings=settings)))


def test_slack_validation(api):
    fields = errors_of(api.post("/tracking-rules", ping_rule(action="slack", action_settings={
        "webhook_url": "hooks.slack.com", "text": ""})))
    assert set(fields) == {"action_settings.webhook_url", "action_settings.text"}


def test_trigger_settings_must_exist_and_fit_the_level(api, make_list, make_campaign,
                                                       make_mailer):
    lst, campaign, mailer = make_list(), make_campaign(), make_mailer()
    fields = errors_of(api.post("/tracking-rules", ping_rule(
        trigger_settings={"contact_list_ids": [999], "mailer_ids": [998]})))
    assert "999" in fields["trigger_settings.contact_list_ids"][0]
    assert "998" in fields["trigger_settings.mailer_ids"][0]
    # Campaigns have Mailers only; lists have no trigger settings.
    fields = errors_of(api.post("/tracking-rules", ping_rule(
        "email_campaign", campaign.id, trigger_settings={"contact_list_ids": [lst.id]})))
    assert "trigger_settings.contact_list_ids" in fields
    fields = errors_of(api.post("/tracking-rules", ping_rule(
        "email_list", lst.id, trigger_settings={"mailer_ids": [mailer.id]})))
    assert "trigger_settings.mailer_ids" in fields
    ok = api.post("/tracking-rules", ping_rule("email_campaign", campaign.id,
                                               trigger_settings={"mailer_ids": [mailer.id]}))
    assert ok.status_code == 201 and ok.json["trigger_settings"] == {"mailer_ids": [mailer.id]}


def test_scope_must_exist_and_be_of_the_levels_kind(api, make_list, make_campaign):
    email_list, phone_list = make_list(), make_list(Channel.PHONE)
    sms = make_campaign(Channel.PHONE)
    assert "scope_id" in errors_of(api.post("/tracking-rules", ping_rule("email_list", 999)))
    assert "scope_id" in errors_of(api.post("/tracking-rules", ping_rule("email_list", phone_list.id)))
    assert "scope_id" in errors_of(api.post("/tracking-rules", ping_rule("email_campaign", sms.id)))
    assert "scope_id" in errors_of(api.post("/tracking-rules", ping_rule("project", email_list.id)))
    assert api.post("/tracking-rules", ping_rule("sms_campaign", sms.id)).status_code == 201
    assert api.post("/tracking-rules", ping_rule("phone_list", phone_list.id)).status_code == 201


def test_add_remove_target_rules(api, make_list):
    email_a, email_b, phone = make_list(), make_list(), make_list(Channel.PHONE)
    group = make_list(kind=ListKind.GROUPED, members=[email_a])

    def target(level, scope, list_id, action="add_to_list"):
        return api.post("/tracking-rules", ping_rule(level, scope, action=action,
                                                     action_settings={"list_id": list_id}))
    assert "action_settings.list_id" in errors_of(target("email_list", email_a.id, phone.id))
    assert "action_settings.list_id" in errors_of(target("email_list", email_a.id, email_a.id))
    assert "action_settings.list_id" in errors_of(target("email_list", email_b.id, group.id))
    assert "action_settings.list_id" in errors_of(target("email_list", group.id, email_a.id))
    assert "action_settings.list_id" in errors_of(target("email_list", email_a.id, 999))
    assert target("email_list", email_a.id, email_b.id, "remove_from_list").status_code == 201
    # Project rules may target a list of any channel.
    assert target("project", None, phone.id).status_code == 201


def test_adjacent_rule_ids(api, make_list, make_mailer):
    lst, other = make_list(), make_list()
    m1, m2 = make_mailer(), make_mailer()
    a = api.post("/tracking-rules", ping_rule()).json  # any list, any mailer
    b = api.post("/tracking-rules", ping_rule("email_list", lst.id)).json
    c = api.post("/tracking-rules", ping_rule(trigger_settings={"contact_list_ids": [other.id],
                                                                "mailer_ids": [m1.id]})).json
    d = api.post("/tracking-rules", ping_rule(trigger_settings={"mailer_ids": [m2.id]})).json
    api.post("/tracking-rules", ping_rule(trigger="contact_deleted"))
    api.post("/tracking-rules", ping_rule(status="disabled"))
    adjacent = {r["id"]: r["adjacent_rule_ids"] for r in api.get("/tracking-rules").json}
    assert adjacent[a["id"]] == [b["id"], c["id"], d["id"]]
    assert adjacent[b["id"]] == [a["id"], d["id"]]
    assert adjacent[c["id"]] == [a["id"], d["id"]] or adjacent[c["id"]] == [a["id"]]
    assert c["id"] not in adjacent[b["id"]]


def test_mailer_filters_that_do_not_meet_are_not_adjacent(api, make_mailer):
    m1, m2 = make_mailer(), make_mailer()
    c = api.post("/tracking-rules", ping_rule(trigger_settings={"mailer_ids": [m1.id]})).json
    d = api.post("/tracking-rules", ping_rule(trigger_settings={"mailer_ids": [m2.id]})).json
    assert api.get(f"/tracking-rules/{c['id']}").json["adjacent_rule_ids"] == []
    assert api.get(f"/tracking-rules/{d['id']}").json["adjacent_rule_ids"] == []


@pytest.mark.parametrize("role, level, own, status", [
    (Role.CAMPAIGN_MANAGER, "email_campaign", True, 201),
    (Role.CAMPAIGN_MANAGER, "email_campaign", False, 422),
    (Role.CAMPAIGN_MANAGER, "email_list", False, 422),
    (Role.CAMPAIGN_MANAGER, "project", None, 403),
    (Role.LIST_OWNER, "email_list", True, 201),
    (Role.LIST_OWNER, "email_list", False, 422),
    (Role.LIST_OWNER, "email_campaign", False, 422),
    (Role.LIST_OWNER, "project", None, 403),
])
def test_roles_create_rules_only_where_they_may(api_as, make_user, make_list, make_campaign,
                                                role, level, own, status):
    user = make_user(role)
    owner = user if own else None
    if level == "email_campaign":
        scope = make_campaign(manager=owner if role == Role.CAMPAIGN_MANAGER else None).id
    elif level == "email_list":
        scope = make_list(owner=owner if role == Role.LIST_OWNER else None).id
    else:
        scope = None
    response = api_as(user).post("/tracking-rules", ping_rule(level, scope))
    assert response.status_code == status, response.json


def test_roles_see_only_their_rules(api, api_as, make_user, make_list, make_campaign):
    owner, manager = make_user(Role.LIST_OWNER), make_user(Role.CAMPAIGN_MANAGER)
    own_list, other_list = make_list(owner=owner), make_list()
    own_campaign = make_campaign(manager=manager)
    ids = {name: api.post("/tracking-rules", body).json["id"] for name, body in {
        "project": ping_rule(), "own_list": ping_rule("email_list", own_list.id),
        "other_list": ping_rule("email_list", other_list.id),
        "own_campaign": ping_rule("email_campaign", own_campaign.id)}.items()}
    as_owner, as_manager = api_as(owner), api_as(manager)
    assert [r["id"] for r in as_owner.get("/tracking-rules").json] == [ids["own_list"]]
    assert [r["id"] for r in as_manager.get("/tracking-rules").json] == [ids["own_campaign"]]
    for name in ("project", "other_list", "own_campaign"):
        assert as_owner.get(f"/tracking-rules/{ids[name]}").status_code == 404
        assert as_owner.patch(f"/tracking-rules/{ids[name]}", {"status": "disabled"}).status_code == 404
        assert as_owner.delete(f"/tracking-rules/{ids[name]}").status_code == 404
    assert as_owner.delete(f"/tracking-rules/{ids['own_list']}").status_code == 204


def test_rules_api_needs_a_key_and_is_documented(app, api):
    from tests.conftest import ApiClient
    assert ApiClient(app.test_client(), None).get("/tracking-rules").status_code == 401
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert {"/api/v1/tracking-rules", "/api/v1/tracking-rules/{rule_id}"} <= set(spec["paths"])
    assert "NewRule" in spec["components"]["schemas"]
    assert set(spec["components"]["schemas"]["NewRule"]["required"]) >= {"level", "trigger",
                                                                          "action", "action_settings"}


def test_md5_only_list_scope_is_fine(api, make_list):
    lst = make_list(storage=Storage.MD5)
    assert api.post("/tracking-rules", ping_rule("email_list", lst.id)).status_code == 201
