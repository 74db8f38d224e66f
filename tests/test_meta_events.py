"""Meta events: a rule paused, a rule resumed, a delivery failed for good are events of the
product that Project rules act on (real workers posting to a real HTTP server on loopback); a
Project rule acting on its own failures stops at the chain depth. Then where their triggers are
offered, which actions and placeholders they take."""
import json
import re

import pytest
import sqlalchemy as sa

from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import (Delivery, DeliveryStatus, Event, ProjectSettings, RuleStatus,
                             TrackingRule, Trigger)

from conftest import Reply, fresh, wait_for

PATIENCE = 60
ALERT_BODY = json.dumps({
    "event": "{{event_id}}", "trigger": "{{trigger}}", "rule": "{{subject_rule_id}}",
    "level": "{{subject_rule_level}}", "scope": "{{subject_rule_scope}}",
    "action": "{{subject_rule_action}}", "reason": "{{reason}}", "error": "{{last_error}}",
    "delivery": "{{delivery_id}}", "md5": "{{contact_md5}}", "list": "{{list_name}}",
    "by": "{{rule_id}}"})


def project_settings(**values):
    settings = ProjectSettings.get()
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.commit()


def alert_rule(make_rule, http_sink, trigger, path):
    return make_rule("ping_url", {"method": "POST", "url": http_sink.url + path,
                                  "content_type": "json", "body": ALERT_BODY}, trigger=trigger)


def posted(http_sink, path, count=1):
    requests = wait_for(lambda: len(http_sink.received(path)) >= count and
                        http_sink.received(path), PATIENCE, message=f"{count} POST to {path}")
    return [json.loads(r.body) for r in requests]


def test_a_rule_paused_and_resumed_fires_project_rules(
        make_workers, api, http_sink, make_list, make_rule):
    make_workers(OPTINTEL_BREAKER_FAILURES=0).start(1)
    on_paused = alert_rule(make_rule, http_sink, "rule_paused", "/paused")
    on_resumed = alert_rule(make_rule, http_sink, "rule_resumed", "/resumed")
    watched = make_list(name="Main & Co")
    http_sink.script("/gone", Reply(410, body="removed"))
    failing = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/gone"},
                        "email_list", watched.id)
    api.post(f"/email-lists/{watched.id}/emails-add", {"emails": ["meta@example.com"]})

    [alert] = posted(http_sink, "/paused")
    assert alert["trigger"] == "rule_paused" and alert["rule"] == str(failing)
    assert (alert["level"], alert["scope"]) == ("Email Opt-Out List",
                                                f"Email Opt-Out List: Main & Co (#{watched.id})")
    assert (alert["action"], alert["reason"]) == ("Ping URL", "Its target answered 410 Gone.")
    assert (alert["error"], alert["by"]) == ("410 removed", str(on_paused))
    event = db.session.get(Event, int(alert["event"]))
    assert (event.trigger, event.subject_rule_id, event.list_id) == \
        (Trigger.RULE_PAUSED, failing, None)

    assert api.patch(f"/tracking-rules/{failing}", {"status": "active"}).status_code == 200
    [resumed] = posted(http_sink, "/resumed")
    assert resumed["trigger"] == "rule_resumed" and resumed["rule"] == str(failing)
    assert resumed["reason"].startswith("Enabled by global_admin")
    assert resumed["by"] == str(on_resumed)
    # The alerts are deliveries of the Project rules, in the log as any other.
    for rule_id in (on_paused, on_resumed):
        [delivery] = wait_for(lambda: [d for d in fresh(sa.select(Delivery).where(
            Delivery.rule_id == rule_id)) if d.status == DeliveryStatus.SUCCEEDED], PATIENCE,
            message=f"the delivery of rule {rule_id} to be recorded")
        assert (delivery.list_id, delivery.contact_md5) == (None, None)


def test_a_delivery_failed_for_good_fires_project_rules_and_a_loop_stops_at_the_depth(
        make_workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0")
    pool = make_workers(OPTINTEL_BREAKER_FAILURES=0, OPTINTEL_MAX_CHAIN_DEPTH=2).start(1)
    http_sink.default = Reply(500, body="broken")
    watched = make_list(name="Watched")
    failing = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/down"},
                        "email_list", watched.id)
    # This Project rule fails too: each of its failures is a Delivery Failed event again.
    on_failed = alert_rule(make_rule, http_sink, "delivery_failed", "/failed")
    api.post(f"/email-lists/{watched.id}/emails-add", {"emails": ["lost@example.com"]})

    first, second = posted(http_sink, "/failed", 2)
    [lost] = fresh(sa.select(Delivery).where(Delivery.rule_id == failing))
    assert lost.status == DeliveryStatus.FAILED
    assert (first["delivery"], first["rule"], first["error"]) == \
        (str(lost.id), str(failing), "500 broken")
    assert first["reason"] == "It failed for good after 1 attempt."
    assert (first["md5"], first["list"]) == (lost.contact_md5, "Watched")
    assert second["rule"] == str(on_failed)

    def chain():
        events = fresh(sa.select(Event).where(Event.trigger == Trigger.DELIVERY_FAILED)
                       .order_by(Event.id))
        rows = fresh(sa.select(Delivery).where(Delivery.rule_id == on_failed))
        return (events, rows) if len(rows) == 2 and all(
            r.status == DeliveryStatus.FAILED for r in rows) else None
    events, _ = wait_for(chain, PATIENCE, message="the chain to end")
    assert [e.depth for e in events] == [1, 2]
    wait_for(lambda: "Delivery Failed event left out: the chain" in pool.logs(), PATIENCE,
             message="the log line of the chain's end")
    assert len(fresh(sa.select(Event).where(Event.trigger == Trigger.DELIVERY_FAILED))) == 2


# Where the triggers are offered, and what a meta rule may say -------------------------------

def test_the_add_rule_pop_up_offers_meta_triggers_at_project_level_only(as_admin, make_list):
    project = as_admin.htmx("get", "/tracking/project/0/rules/new").get_data(as_text=True)
    for trigger in ("[Opt-Intel] Rule Paused", "[Opt-Intel] Rule Resumed",
                    "[Opt-Intel] Delivery Failed", "[Opt-Intel] Contact Added"):
        assert trigger in project
    watched = make_list()
    on_list = as_admin.htmx("get", f"/tracking/email_list/{watched.id}/rules/new").get_data(
        as_text=True)
    assert "[Opt-Intel] Contact Added" in on_list and "Rule Paused" not in on_list


def test_step_two_of_a_meta_trigger_has_no_trigger_settings(as_admin):
    page = as_admin.htmx("post", "/tracking/project/0/rules/new/next",
                         data={"trigger": "rule_paused", "action": "slack"}).get_data(as_text=True)
    assert "[Opt-Intel] Rule Paused" in page and "Trigger Settings" not in page
    saved = as_admin.htmx("post", "/tracking/project/0/rules", data={
        "trigger": "rule_paused", "action": "slack",
        "webhook_url": "https://hooks.slack.com/services/T0/B0/abc",
        "text": "Rule #{{subject_rule_id}} paused: {{reason}}"})
    assert saved.status_code == 200 and "closeModal" in saved.headers["HX-Trigger"]
    rule = db.session.scalars(sa.select(TrackingRule)).one()
    assert (rule.trigger, rule.trigger_settings, rule.status) == \
        (Trigger.RULE_PAUSED, {}, RuleStatus.ACTIVE)


@pytest.mark.parametrize("rule, field, message", [
    ({"level": "email_list", "trigger": "rule_paused"}, "trigger",
     "Only Project rules act on [Opt-Intel] Rule Paused."),
    ({"trigger": "delivery_failed", "action": "add_to_list"}, "action",
     "Add to opt-out list acts on a contact: choose [Opt-Intel] Contact Added or Deleted."),
    ({"trigger": "rule_resumed", "action_settings": {"text": "{{contact}} {{reason}}"}},
     "action_settings.text", "{{contact}} is not a placeholder of [Opt-Intel] Rule Resumed."),
    ({"trigger": "contact_added", "action_settings": {"text": "{{reason}}"}},
     "action_settings.text", "{{reason}} is not a placeholder of [Opt-Intel] Contact Added."),
])
def test_the_api_refuses_what_meta_triggers_cannot_do(api, make_list, rule, field, message):
    watched = make_list()
    body = {"level": "project", "scope_id": None, "trigger": "rule_paused", "action": "slack",
            "action_settings": {"webhook_url": "https://hooks.slack.com/services/T0/B0/abc",
                                "text": "paused"}}
    if rule.get("level") == "email_list":
        body["scope_id"] = watched.id
    if rule.get("action") == "add_to_list":
        body["action_settings"] = {"list_id": watched.id}
    body["action_settings"] = {**body["action_settings"], **rule.pop("action_settings", {})}
    response = api.post("/tracking-rules", {**body, **rule})
    assert response.status_code == 422, response.json
    assert message in response.json["error"]["fields"][field], response.json


def test_a_test_run_of_a_meta_rule_offers_its_own_placeholders(as_admin, http_sink, make_rule):
    rule_id = alert_rule(make_rule, http_sink, "rule_paused", "/paused")
    dialog = as_admin.htmx("get", f"/tracking/project/0/rules/{rule_id}/test-run").get_data(
        as_text=True)
    names = re.findall(r'name="([a-z_]+)" value=', dialog)
    assert {"subject_rule_id", "reason", "last_error", "delivery_id"} <= set(names)
    assert "contact" not in names


def test_the_log_and_the_api_show_a_meta_events_delivery_which_has_no_contact(
        as_admin, api, http_sink, make_list, make_rule):
    on_paused = alert_rule(make_rule, http_sink, "rule_paused", "/paused")
    http_sink.script("/gone", Reply(410))
    failing = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/gone"})
    api.post(f"/email-lists/{make_list().id}/emails-add", {"emails": ["shown@example.com"]})

    def undispatched():
        db.session.rollback()
        return list(db.session.scalars(sa.select(Event.id).where(Event.dispatched_at.is_(None))))
    dispatch(undispatched())
    execute([d.id for d in fresh(sa.select(Delivery).where(Delivery.rule_id == failing))])
    [alert_id] = dispatch(undispatched())
    assert execute([alert_id]) == 1

    page = as_admin.get(f"/logs/?rule_id={on_paused}").get_data(as_text=True)
    row = re.search(rf'<tr id="delivery-{alert_id}".*?</tr>', page, re.S).group(0)
    assert "[Opt-Intel] Rule Paused" in row and '<td class="mono">—</td>' in row
    dialog = as_admin.htmx("post", f"/logs/deliveries/{alert_id}/log").get_data(as_text=True)
    assert "[Opt-Intel] Rule Paused" in dialog and "MD5" not in dialog
    [item] = api.get(f"/tracking-log?rule_id={on_paused}").json["items"]
    assert (item["contact"], item["contact_md5"], item["trigger"]) == ("", None, "rule_paused")
    # The Events API lists contact events only.
    listed = api.get("/events").json["items"]
    assert [e["trigger"] for e in listed] == ["contact_added"]
    meta = db.session.scalars(sa.select(Event.id).where(Event.trigger == Trigger.RULE_PAUSED))
    assert api.get(f"/events/{meta.one()}").status_code == 404
