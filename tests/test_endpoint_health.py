"""Endpoint health with real parts: a rule whose deliveries keep failing (a real HTTP server on
loopback that answers 500, or 410 Gone) is paused by real workers, its author and the
notification recipients are emailed through a real SMTP server, its deliveries are held, and
enabling it (the API, the Tracking tab, a Test Run that succeeds) releases them in order. Then
what the pages, the API, the log and the pruning make of a paused rule."""
import logging
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import (Delivery, DeliveryStatus, Event, ProjectSettings, Role, RuleStatus,
                             TrackingRule)
from optintel.models.columns import utcnow
from optintel.queue import DELIVERIES_QUEUE, queue
from optintel.tracking_log.chart import chart
from optintel.tracking_log.filters import LogFilter
from optintel.tracking_log.pruning import prune

from conftest import Reply, fresh, wait_for

PATIENCE = 60
# Retries every second, so that a failing target is tried again and again within a test.
FAST_RETRIES = ", ".join(["0"] + ["1"] * 19)


@pytest.fixture(autouse=True)
def no_circuit_breaker(app_config):
    """The in-process tests fail one host (the sink) on purpose: no breaker in the way."""
    app_config.OPTINTEL_BREAKER_FAILURES = 0


@pytest.fixture
def one_delivery_a_job(app_config):
    """Batches of one, for the web app as for the workers: released deliveries go one job
    each, in order (the deliveries of one batch are attempted at once)."""
    app_config.OPTINTEL_DELIVERY_BATCH = 1


def project_settings(**values):
    """Commit Project Settings values, before the workers read them."""
    settings = ProjectSettings.get()
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.commit()


def default_smtp(smtp_server, **values):
    project_settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none",
                     smtp_from="opt-intel@example.com", **values)


def ping(http_sink, path):
    return {"method": "POST", "url": http_sink.url + path, "content_type": "json",
            "body": '{"email": "{{email}}"}'}


def add_emails(api, opt_out_list, *emails):
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", {"emails": list(emails)})
    assert response.status_code == 200 and response.json["added"] == len(emails), response.json
    return response


def rule_row(rule_id):
    db.session.rollback()
    return db.session.get(TrackingRule, rule_id)


def deliveries_of(rule_id):
    return fresh(sa.select(Delivery).where(Delivery.rule_id == rule_id).order_by(Delivery.id))


def paused(rule_id, timeout=PATIENCE):
    return wait_for(lambda: rule_row(rule_id).status == RuleStatus.PAUSED and rule_row(rule_id),
                    timeout, message=f"rule {rule_id} to be paused")


def all_in(rule_id, count, status, timeout=PATIENCE):
    def done():
        rows = deliveries_of(rule_id)
        return rows if len(rows) == count and all(r.status == status for r in rows) else None
    return wait_for(done, timeout, message=f"{count} deliveries of rule {rule_id} to be {status}")


def emails_of(requests):
    return [r.body.decode().split('"')[3] for r in requests]


def test_a_target_that_always_fails_pauses_the_rule_tells_its_author_and_holds_until_enabled(
        one_delivery_a_job, make_workers, api, http_sink, smtp_server, make_list, make_rule):
    default_smtp(smtp_server, retry_schedule=FAST_RETRIES, pause_after_failures=3,
                 pause_after_seconds=1,
                 notification_recipients="compliance@example.com\nops@example.com")
    # One delivery a job and no breaker: the order on the wire is the order of release.
    make_workers(OPTINTEL_DELIVERY_BATCH=1, OPTINTEL_BREAKER_FAILURES=0).start(1)
    http_sink.default = Reply(500, body="down for maintenance")
    rule_id = make_rule("ping_url", ping(http_sink, "/down"))
    author = api.get(f"/tracking-rules/{rule_id}").json["author"]
    watched = make_list()
    add_emails(api, watched, "first@example.com", "second@example.com")

    rule = paused(rule_id)
    assert rule.consecutive_failures >= 3 and "in a row" in rule.paused_reason
    assert rule.last_error == "500 down for maintenance"
    assert rule.paused_at is not None
    shown = api.get(f"/tracking-rules/{rule_id}").json
    assert (shown["status"], shown["paused_reason"]) == ("paused", rule.paused_reason)
    assert shown["last_error"] == "500 down for maintenance"

    # The author and the recipients are told, through the default SMTP connection.
    [mail] = wait_for(lambda: smtp_server.messages, PATIENCE, message="the pause email")
    assert mail.mail_from == "opt-intel@example.com"
    assert sorted(mail.rcpt_tos) == sorted([author, "compliance@example.com", "ops@example.com"])
    assert mail.message["Subject"] == f"[Opt-Intel] Rule #{rule_id} paused"
    body = mail.message.get_content()
    assert rule.paused_reason in body and "500 down for maintenance" in body
    assert "first@example.com" not in body

    # Its deliveries are held, a new one is held at once, and nothing more is sent.
    all_in(rule_id, 2, DeliveryStatus.HELD)
    add_emails(api, watched, "third@example.com")
    held = all_in(rule_id, 3, DeliveryStatus.HELD)
    assert held[2].attempts == 0 and held[2].next_attempt_at is None
    sent_while_paused = len(http_sink.received("/down"))
    time.sleep(3)
    assert len(http_sink.received("/down")) == sent_while_paused
    assert len(smtp_server.messages) == 1

    # Enabling resumes it: the held deliveries go out oldest first and succeed.
    http_sink.default = Reply(200)
    response = api.patch(f"/tracking-rules/{rule_id}", {"status": "active"})
    assert response.status_code == 200 and response.json["status"] == "active"
    assert response.json["paused_reason"] == ""
    done = all_in(rule_id, 3, DeliveryStatus.SUCCEEDED)
    after = http_sink.received("/down")[sent_while_paused:]
    assert emails_of(after) == ["first@example.com", "second@example.com", "third@example.com"]
    assert done[2].attempts == 1
    assert rule_row(rule_id).consecutive_failures == 0


def test_410_gone_pauses_at_once_and_without_a_default_smtp_connection_says_so_in_the_log(
        workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule=FAST_RETRIES)
    workers.start(1)
    http_sink.script("/gone", Reply(410, body="this endpoint was removed"))
    rule_id = make_rule("ping_url", ping(http_sink, "/gone"))
    add_emails(api, make_list(), "gone@example.com")

    rule = paused(rule_id)
    assert rule.paused_reason == "Its target answered 410 Gone."
    [delivery] = all_in(rule_id, 1, DeliveryStatus.HELD)
    assert delivery.attempts == 1 and len(http_sink.received("/gone")) == 1
    wait_for(lambda: f"Rule {rule_id} paused: no default SMTP connection" in workers.logs(),
             PATIENCE, message="the log line about the email not sent")


def test_with_pausing_off_a_failing_rule_is_never_paused(
        make_workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0, 1, 1, 1", pause_after_failures=0, pause_after_seconds=1)
    make_workers(OPTINTEL_BREAKER_FAILURES=0).start(1)
    http_sink.default = Reply(410)
    rule_id = make_rule("ping_url", ping(http_sink, "/off"))
    add_emails(api, make_list(), "off@example.com")

    [delivery] = all_in(rule_id, 1, DeliveryStatus.FAILED)
    assert delivery.attempts == 4
    assert rule_row(rule_id).status == RuleStatus.ACTIVE


def test_a_test_run_that_succeeds_resumes_the_rule_and_releases_its_deliveries(
        workers, as_admin, api, http_sink, make_list, make_rule):
    workers.start(1)
    http_sink.script("/gone", Reply(410))
    rule_id = make_rule("ping_url", ping(http_sink, "/gone"))
    add_emails(api, make_list(), "tested@example.com")
    paused(rule_id)
    all_in(rule_id, 1, DeliveryStatus.HELD)

    started = api.post(f"/tracking-rules/{rule_id}/test-run", {"values": {}})
    assert started.status_code == 202, started.json
    [delivery] = all_in(rule_id, 1, DeliveryStatus.SUCCEEDED)
    assert delivery.attempts == 2
    assert rule_row(rule_id).status == RuleStatus.ACTIVE


# In process: the same domain code, the real database, Redis and HTTP server, no worker. ------

def failing_rule(make_rule, http_sink, path="/down"):
    http_sink.default = Reply(500, body="boom")
    return make_rule("ping_url", ping(http_sink, path))


def executed(rule_id):
    """Run every due delivery of the rule here, as a worker would."""
    ids = [d.id for d in deliveries_of(rule_id) if d.status.in_flight]
    return execute(ids)


def dispatched(api, opt_out_list, *emails):
    from optintel.deliveries.dispatch import dispatch
    add_emails(api, opt_out_list, *emails)
    db.session.rollback()
    return dispatch(list(db.session.scalars(sa.select(Event.id).where(
        Event.dispatched_at.is_(None)))))


def test_a_success_starts_the_count_again(app, api, http_sink, make_list, make_rule):
    # Pausing off: the failures are still counted, for the pages and the API.
    project_settings(retry_schedule="0, 0, 0, 0", pause_after_failures=0)
    rule_id = failing_rule(make_rule, http_sink)
    watched = make_list()
    dispatched(api, watched, "a@example.com", "b@example.com")
    executed(rule_id)
    counted = rule_row(rule_id)
    assert counted.consecutive_failures == 2
    updated_at = counted.updated_at
    http_sink.default = Reply(200)
    executed(rule_id)
    rule = rule_row(rule_id)
    assert (rule.consecutive_failures, rule.failing_since) == (0, None)
    # Counting is not editing.
    assert rule.updated_at == updated_at
    # The last error stays, to tell what the target said when it last failed.
    assert rule.last_error == "500 boom"


def test_the_window_must_pass_as_well_as_the_count(app, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0, 0, 0, 0, 0, 0", pause_after_failures=2,
                     pause_after_seconds=3600)
    rule_id = failing_rule(make_rule, http_sink)
    dispatched(api, make_list(), "a@example.com", "b@example.com")
    for _ in range(3):
        executed(rule_id)
    rule = rule_row(rule_id)
    assert rule.consecutive_failures == 6 and rule.status == RuleStatus.ACTIVE
    # An hour later (the failing run began then), the next failure pauses it.
    db.session.execute(sa.update(TrackingRule).where(TrackingRule.id == rule_id)
                       .values(failing_since=utcnow() - timedelta(hours=1, seconds=1)))
    db.session.commit()
    executed(rule_id)
    rule = rule_row(rule_id)
    assert rule.status == RuleStatus.PAUSED
    assert rule.paused_reason.startswith("Every attempt failed for 1 h")
    assert [d.status for d in deliveries_of(rule_id)] == [DeliveryStatus.HELD] * 2


@pytest.fixture
def two_senders(app_config):
    app_config.OPTINTEL_CONCURRENCY = 2


def test_after_a_410_gone_a_batch_sends_no_more_of_that_rules_deliveries(
        two_senders, app, api, http_sink, make_list, make_rule):
    # The target is slow to say so: the second sender's first attempt is under way meanwhile.
    http_sink.script("/gone", *[Reply(410, body="gone", delay=0.5)] * 20)
    gone = make_rule("ping_url", ping(http_sink, "/gone"))
    fine = make_rule("ping_url", ping(http_sink, "/fine"))
    dispatched(api, make_list(), *[f"g{n}@example.com" for n in range(20)])
    db.session.rollback()
    attempted = execute([d.id for d in db.session.scalars(sa.select(Delivery))])

    # Only the attempts under way when the first 410 came (one a sender) reached the target;
    # the rest were not sent, their count given back, and held with the paused rule; the
    # other rule's were all sent.
    assert len(http_sink.received("/gone")) == 2 and attempted == 22
    assert len(http_sink.received("/fine")) == 20
    assert rule_row(gone).status == RuleStatus.PAUSED
    held = deliveries_of(gone)
    assert {d.status for d in held} == {DeliveryStatus.HELD}
    assert sorted(d.attempts for d in held) == [0] * 18 + [1] * 2
    # Taken again, none is sent.
    assert executed(gone) == 0 and len(http_sink.received("/gone")) == 2
    assert {d.status for d in deliveries_of(fine)} == {DeliveryStatus.SUCCEEDED}


def test_a_delivery_of_a_paused_rule_handed_to_a_worker_is_held_not_attempted(
        app, api, http_sink, make_list, make_rule):
    rule_id = failing_rule(make_rule, http_sink)
    dispatched(api, make_list(), "a@example.com")
    rule = rule_row(rule_id)
    rule.status, rule.paused_reason = RuleStatus.PAUSED, "Its target answered 410 Gone."
    db.session.commit()
    assert executed(rule_id) == 0
    [delivery] = deliveries_of(rule_id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.HELD, 0)
    assert http_sink.received() == []


def test_without_default_smtp_connection_the_pause_is_logged_without_contacts(
        app, api, http_sink, make_list, make_rule, caplog):
    http_sink.default = Reply(410, body="gone")
    rule_id = make_rule("ping_url", ping(http_sink, "/gone"))
    dispatched(api, make_list(), "secretive@example.com")
    with caplog.at_level(logging.INFO, logger="optintel"):
        executed(rule_id)
    assert rule_row(rule_id).status == RuleStatus.PAUSED
    lines = [r.getMessage() for r in caplog.records]
    assert f"Rule {rule_id} paused: no default SMTP connection is set, nobody was emailed" in lines
    assert not any("secretive" in line for line in lines)


def test_the_last_error_masks_the_contact(app, api, http_sink, make_list, make_rule):
    http_sink.default = Reply(500, body="cannot store echo@example.com today")
    rule_id = make_rule("ping_url", ping(http_sink, "/echo"))
    dispatched(api, make_list(), "echo@example.com")
    executed(rule_id)
    assert rule_row(rule_id).last_error == "500 cannot store e***@example.com today"


def paused_rule_with_held(api, make_rule, http_sink, opt_out_list, level="project", **kw):
    """A rule paused by its 410, with one held delivery, made in process."""
    http_sink.script("/gone", Reply(410, body="gone"))
    rule_id = make_rule("ping_url", ping(http_sink, "/gone"), level, **kw)
    dispatched(api, opt_out_list, f"held{rule_id}@example.com")
    executed(rule_id)
    assert rule_row(rule_id).status == RuleStatus.PAUSED
    return rule_id


def test_the_api_refuses_to_pause_by_hand_and_documents_the_status(
        app, api, http_sink, make_list, make_rule):
    rule_id = make_rule("ping_url", ping(http_sink, "/ok"))
    response = api.patch(f"/tracking-rules/{rule_id}", {"status": "paused"})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["status"] == [
        "A rule is paused by its failing deliveries, not by hand; choose active or disabled."]
    schema = api.get("/openapi.json").json["components"]["schemas"]["Rule"]["properties"]
    assert schema["status"]["enum"] == ["active", "disabled", "paused"]
    assert "paused_reason" in schema and "last_error" in schema
    changes = api.get("/openapi.json").json["components"]["schemas"]["RuleChanges"]["properties"]
    assert "only kept" in changes["status"]["description"]
    listed = api.get("/tracking-rules?status=paused")
    assert listed.status_code == 200 and listed.json == []


def test_patching_other_fields_of_a_paused_rule_keeps_it_paused(
        app, api, http_sink, make_list, make_rule):
    rule_id = paused_rule_with_held(api, make_rule, http_sink, make_list())
    shown = api.get(f"/tracking-rules/{rule_id}").json
    response = api.patch(f"/tracking-rules/{rule_id}", {
        "status": "paused", "action_settings": {**shown["action_settings"], "timeout": 5}})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "paused"
    assert [d.status for d in deliveries_of(rule_id)] == [DeliveryStatus.HELD]


def test_enable_on_the_tracking_tab_resumes_and_hands_the_held_deliveries_to_the_workers(
        app, as_admin, api, http_sink, make_list, make_rule):
    rule_id = paused_rule_with_held(api, make_rule, http_sink, make_list())
    page = as_admin.get("/settings/opt-intel/tracking").get_data(as_text=True)
    row = re.search(rf'<tr id="rule-{rule_id}".*?</tr>', page, re.S).group(0)
    assert ">Paused<" in row and "Its target answered 410 Gone." in row
    assert "Last error: 410 gone" in row and "1 delivery held" in row
    assert ">Enable<" in row
    queue(DELIVERIES_QUEUE).empty()

    panel = as_admin.htmx("post", f"/tracking/project/0/rules/{rule_id}/toggle")
    assert panel.status_code == 200
    assert rule_row(rule_id).status == RuleStatus.ACTIVE
    [delivery] = deliveries_of(rule_id)
    assert delivery.status == DeliveryStatus.PENDING and "resumed" in delivery.note
    assert queue(DELIVERIES_QUEUE).jobs[0].args == ([delivery.id],)


def test_the_dashboard_lists_the_paused_rules_the_user_may_manage(
        app, web, api, http_sink, make_user, make_list, make_rule):
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner_id=owner.id, name="Mine"), make_list(owner_id=other.id)
    own_rule = paused_rule_with_held(api, make_rule, http_sink, mine, "email_list",
                                     scope_id=mine.id)
    their_rule = paused_rule_with_held(api, make_rule, http_sink, theirs, "email_list",
                                       scope_id=theirs.id)
    page = web.login(owner).get("/").get_data(as_text=True)
    assert "Paused rules" in page
    assert f"Rule #{own_rule}" in page and f"/lists/email/{mine.id}/tracking" in page
    assert f"Rule #{their_rule}" not in page
    assert "Its target answered 410 Gone." in page


def test_held_deliveries_are_counted_in_the_chart_filtered_and_never_pruned(
        app, admin, api, http_sink, make_list, make_rule):
    rule_id = paused_rule_with_held(api, make_rule, http_sink, make_list())
    figure = chart(admin, LogFilter())
    assert sum(counts[DeliveryStatus.HELD] for _, counts in figure.buckets) == 1
    held = LogFilter.from_args({"status": "held"})
    assert held.errors == {} and held.status == DeliveryStatus.HELD

    project_settings(log_retention_days=1)
    db.session.execute(sa.update(Delivery).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    prune()
    assert [d.status for d in deliveries_of(rule_id)] == [DeliveryStatus.HELD]


def test_deleting_a_paused_rule_skips_its_held_deliveries(
        app, api, http_sink, make_list, make_rule):
    rule_id = paused_rule_with_held(api, make_rule, http_sink, make_list())
    [held] = deliveries_of(rule_id)
    assert api.delete(f"/tracking-rules/{rule_id}").status_code == 204
    delivery = fresh(sa.select(Delivery).where(Delivery.id == held.id))[0]
    assert delivery.status == DeliveryStatus.SKIPPED
    assert delivery.note == "The rule was deleted while paused."


@pytest.mark.parametrize("field, value, message", [
    ("pause_after_failures", "-1", "Give a number from 0 to 100000."),
    ("pause_after_seconds", "x", "Not a valid integer value."),
    ("notification_recipients", "ops@example.com\nnot an address", "not an address: "),
])
def test_project_settings_refuse_bad_pausing_settings(as_admin, field_errors, field, value,
                                                      message):
    form = {"default_phone_region": "US", "smtp_port": "587", "smtp_security": "starttls",
            "retry_schedule": "0, 5", "pause_after_failures": "20",
            "pause_after_seconds": "86400", field: value}
    page = as_admin.post_form("/settings/opt-intel/settings", form).get_data(as_text=True)
    assert any(m.startswith(message) for m in field_errors(page)[field]), field_errors(page)


def test_project_settings_save_the_pausing_settings(as_admin):
    form = {"default_phone_region": "US", "smtp_port": "587", "smtp_security": "starttls",
            "retry_schedule": "0, 5", "pause_after_failures": "5", "pause_after_seconds": "600",
            "notification_recipients": " Ops@Example.com \n\nDPO@example.com, ops@example.com"}
    response = as_admin.post_form("/settings/opt-intel/settings", form)
    assert response.status_code == 302
    db.session.rollback()
    settings = ProjectSettings.get()
    assert (settings.pause_after_failures, settings.pause_after_seconds) == (5, 600)
    assert settings.notification_addresses == ["ops@example.com", "dpo@example.com"]
    page = as_admin.get("/settings/opt-intel/settings").get_data(as_text=True)
    assert "Pause a rule after" in page
