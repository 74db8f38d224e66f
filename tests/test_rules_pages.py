"""The Tracking tab's rules table and its two-step pop-up, through the pages' own requests."""
import re

import pytest

from optintel import placeholders
from optintel.extensions import db
from optintel.models import Channel, Role, Status, TrackingRule

LEVELS = ["project", "email_campaign", "sms_campaign", "email_list", "phone_list"]


@pytest.fixture
def scopes(make_list, make_campaign, make_user):
    """One scope per level, owned by a campaign manager / list owner; and someone else's."""
    manager, owner = make_user(Role.CAMPAIGN_MANAGER), make_user(Role.LIST_OWNER)
    own = {"project": 0,
           "email_campaign": make_campaign(Channel.EMAIL, manager=manager).id,
           "sms_campaign": make_campaign(Channel.PHONE, manager=manager).id,
           "email_list": make_list(Channel.EMAIL, owner=owner).id,
           "phone_list": make_list(Channel.PHONE, owner=owner).id}
    others = {"project": 0,
              "email_campaign": make_campaign(Channel.EMAIL).id,
              "sms_campaign": make_campaign(Channel.PHONE).id,
              "email_list": make_list(Channel.EMAIL).id,
              "phone_list": make_list(Channel.PHONE).id}
    return {"manager": manager, "owner": owner, "own": own, "others": others}


def expected_status(role, level, own):
    if role == Role.GLOBAL_ADMIN:
        return 200
    if level == "project":
        return 403
    mine = (role == Role.CAMPAIGN_MANAGER and "campaign" in level) or \
           (role == Role.LIST_OWNER and "list" in level)
    return 200 if mine and own else 404


def ping_form(**overrides):
    return {"trigger": "contact_added", "action": "ping_url", "method": "POST",
            "url": "https://example.com/hook?e={{email}}", "content_type": "json",
            "body": '{"email": "{{email}}"}', "timeout": "10", **overrides}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("own", [True, False])
def test_who_reaches_which_tracking_tab(web, make_user, scopes, role, level, own):
    user = {Role.CAMPAIGN_MANAGER: scopes["manager"], Role.LIST_OWNER: scopes["owner"]}.get(role) \
        or make_user(role)
    web.login(user)
    scope_id = scopes["own" if own else "others"][level]
    base = f"/tracking/{level}/{scope_id}/rules"
    status = expected_status(role, level, own)
    assert web.htmx("get", base).status_code == status
    assert web.htmx("get", base + "/new").status_code == status
    response = web.htmx("post", base, data=ping_form())
    assert response.status_code == status
    saved = db.session.query(TrackingRule).count()
    assert saved == (1 if status == 200 else 0)


def test_anonymous_is_sent_to_login(web, scopes):
    response = web.get("/tracking/project/0/rules")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_two_steps_then_save_closes_the_dialog(as_admin, make_list):
    lst = make_list()
    base = f"/tracking/email_list/{lst.id}/rules"
    step_one = as_admin.htmx("get", base + "/new").get_data(as_text=True)
    assert "Step 1 of 2" in step_one and "[Opt-Intel] Contact Added" in step_one
    assert "Slack message" in step_one and "Remove from opt-out list" in step_one
    step_two = as_admin.htmx("post", base + "/new/next",
                             data={"trigger": "contact_deleted", "action": "slack"})
    html = step_two.get_data(as_text=True)
    assert "Step 2 of 2" in html and "Incoming Webhook URL" in html
    assert "Trigger Settings" not in html  # list levels have none
    response = as_admin.htmx("post", base, data={"trigger": "contact_deleted", "action": "slack",
                                                 "webhook_url": "not a url", "text": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<dialog" in html
    assert "Enter an http:// or https:// URL." in html and "This field is required." in html
    assert db.session.query(TrackingRule).count() == 0
    response = as_admin.htmx("post", base, data={
        "trigger": "contact_deleted", "action": "slack",
        "webhook_url": "https://hooks.slack.com/services/T/B/X", "text": "{{contact}} left"})
    assert response.status_code == 200 and response.data == b""
    assert "closeModal" in response.headers["HX-Trigger"]
    assert "rulesChanged" in response.headers["HX-Trigger"]
    rule = db.session.query(TrackingRule).one()
    assert (rule.level.value, rule.scope_id, rule.trigger.value) == ("email_list", lst.id,
                                                                     "contact_deleted")
    table = as_admin.htmx("get", base).get_data(as_text=True)
    assert "[Opt-Intel] Contact Deleted" in table and "Slack message" in table
    assert "hooks.slack.com" not in table  # the webhook URL is a secret


def test_trigger_settings_block_per_level(as_admin, scopes):
    def step_two(level):
        return as_admin.htmx("post", f"/tracking/{level}/{scopes['own'][level]}/rules/new/next",
                             data={"trigger": "contact_added", "action": "ping_url"}
                             ).get_data(as_text=True)
    project = step_two("project")
    assert 'name="contact_list_ids"' in project and 'name="mailer_ids"' in project
    campaign = step_two("sms_campaign")
    assert 'name="contact_list_ids"' not in campaign and 'name="mailer_ids"' in campaign
    assert 'name="mailer_ids"' not in step_two("phone_list")


def test_back_keeps_what_was_typed(as_admin):
    base = "/tracking/project/0/rules"
    back = as_admin.htmx("post", base + "/new/back", data=ping_form(url="https://typed.example/x"))
    html = back.get_data(as_text=True)
    assert "Step 1 of 2" in html and 'value="https://typed.example/x"' in html
    again = as_admin.htmx("post", base + "/new/next", data={
        **ping_form(url="https://typed.example/x"), "action": "ping_url"})
    assert 'value="https://typed.example/x"' in again.get_data(as_text=True)


def test_edit_shows_masked_secrets_and_keeps_them(as_admin):
    base = "/tracking/project/0/rules"
    as_admin.htmx("post", base, data=ping_form(headers="Authorization: Bearer tok3n\nX-A: b",
                                               signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    rule = db.session.query(TrackingRule).one()
    edit = as_admin.htmx("get", f"{base}/{rule.id}/edit").get_data(as_text=True)
    assert "Edit Rule #" in edit and "tok3n" not in edit and "MfKQ9r8" not in edit
    assert "Authorization: ********" in edit
    response = as_admin.htmx("post", f"{base}/{rule.id}", data=ping_form(
        url="https://example.com/v2", headers="Authorization: ********\nX-A: b",
        signing_secret="********"))
    assert response.data == b""
    from optintel.rules.storage import stored_settings
    db.session.expire_all()
    settings = stored_settings(db.session.get(TrackingRule, rule.id))
    assert settings["url"] == "https://example.com/v2"
    assert settings["headers"]["Authorization"] == "Bearer tok3n"
    assert settings["signing_secret"].startswith("whsec_MfKQ")


def test_toggle_and_delete(as_admin):
    base = "/tracking/project/0/rules"
    as_admin.htmx("post", base, data=ping_form())
    rule = db.session.query(TrackingRule).one()
    html = as_admin.htmx("post", f"{base}/{rule.id}/toggle").get_data(as_text=True)
    assert "Enable" in html and db.session.get(TrackingRule, rule.id).status == Status.DISABLED
    html = as_admin.htmx("post", f"{base}/{rule.id}/delete").get_data(as_text=True)
    assert 'hx-confirm' not in html or f"rule-{rule.id}" not in html
    assert db.session.query(TrackingRule).count() == 0


def test_delete_asks_for_confirmation(as_admin):
    as_admin.htmx("post", "/tracking/project/0/rules", data=ping_form())
    html = as_admin.htmx("get", "/tracking/project/0/rules").get_data(as_text=True)
    assert 'hx-confirm="Delete rule #' in html


def test_adjacent_filter_and_reset(as_admin, make_list):
    lst = make_list()
    as_admin.htmx("post", "/tracking/project/0/rules", data=ping_form())
    base = f"/tracking/email_list/{lst.id}/rules"
    as_admin.htmx("post", base, data=ping_form())
    as_admin.htmx("post", base, data=ping_form(trigger="contact_deleted"))
    project_rule, list_rule, deleted_rule = db.session.query(TrackingRule).order_by(TrackingRule.id)
    table = as_admin.htmx("get", base).get_data(as_text=True)
    assert f"adjacent_to={list_rule.id}" in table
    filtered = as_admin.htmx("get", f"{base}?adjacent_to={list_rule.id}").get_data(as_text=True)
    assert f'id="rule-{project_rule.id}"' in filtered
    assert f'id="rule-{deleted_rule.id}"' not in filtered and "Reset" in filtered
    reset = as_admin.htmx("get", base).get_data(as_text=True)
    assert f'id="rule-{deleted_rule.id}"' in reset and "Reset" not in reset


def test_rule_of_another_scope_is_not_reachable(as_admin, make_list):
    a, b = make_list(), make_list()
    as_admin.htmx("post", f"/tracking/email_list/{a.id}/rules", data=ping_form())
    rule = db.session.query(TrackingRule).one()
    assert as_admin.htmx("get", f"/tracking/email_list/{b.id}/rules/{rule.id}/edit").status_code == 404
    assert as_admin.htmx("post", f"/tracking/email_list/{b.id}/rules/{rule.id}/delete").status_code == 404


def test_the_placeholder_picker_offers_what_the_trigger_gives(as_admin):
    """A contact event's names for a contact trigger, a meta event's for a meta trigger: the
    picker never offers a name that the rule's validation would refuse."""
    def offered(trigger):
        html = as_admin.htmx("post", "/tracking/project/0/rules/new/next",
                             data={"trigger": trigger, "action": "slack"}).get_data(as_text=True)
        picker = re.search(r'<select class="placeholder-picker" data-insert-into="text".*?</select>',
                           html, re.S).group(0)
        return re.findall(r'<option value="\{\{(\w+)\}\}"', picker)
    assert offered("contact_added") == list(placeholders.CONTACT_NAMES)
    assert "email" in offered("contact_deleted") and "reason" not in offered("contact_deleted")
    assert offered("rule_paused") == list(placeholders.META_NAMES)
