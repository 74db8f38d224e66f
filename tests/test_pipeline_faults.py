"""Faults with real parts: a receiver that fails, stalls or asks to wait, a worker killed with
SIGKILL mid-batch, Redis stopped and restarted, rules that feed each other, targets refused as
server-side request forgery, rules gone before their delivery ran. Then the retry schedule and
the target policy on their own."""
import base64
import os
import signal
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from optintel.actions import http, sending_loop
from optintel.actions.http import retry_after_seconds
from optintel.actions.target_policy import TargetPolicy, UnsafeTarget, resolve
from optintel.deliveries.retries import MAX_DELAY, next_attempt_at
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import (Attempt, AttemptState, Contact, Delivery, DeliveryStatus, Event,
                             ProjectSettings)

from conftest import Reply, fresh, wait_for

SECRET = "whsec_" + base64.b64encode(b"opt-intel-fault-tests-signing-k").decode()
# Generous: a worker booting on a loaded machine takes seconds; a passing test never waits it out.
PATIENCE = 60


def project_settings(**values):
    """Commit Project Settings values, before the workers read them."""
    settings = ProjectSettings.get()
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.commit()


def ping(http_sink, path, **settings):
    return {"method": "POST", "url": http_sink.url + path, "content_type": "json",
            "body": '{"email": "{{email}}"}', **settings}


def add_emails(api, opt_out_list, *emails):
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", {"emails": list(emails)})
    assert response.status_code == 200 and response.json["added"] == len(emails), response.json
    return response


def deliveries():
    return fresh(sa.select(Delivery).order_by(Delivery.id))


def attempts_of(delivery_id):
    return fresh(sa.select(Attempt).where(Attempt.delivery_id == delivery_id)
                 .order_by(Attempt.number))


def settled(count, statuses=(DeliveryStatus.SUCCEEDED,), timeout=PATIENCE):
    """Wait until there are `count` deliveries, each in one of `statuses`; returns them."""
    def done():
        rows = deliveries()
        return rows if len(rows) == count and all(r.status in statuses for r in rows) else None
    return wait_for(done, timeout, message=f"{count} deliveries to be {'/'.join(statuses)}")


def test_a_500_is_retried_until_a_200_with_the_same_webhook_id(
        workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0, 1, 1")
    workers.start(1)
    http_sink.script("/flaky", Reply(500, body="boom"), Reply(200, body="thanks"))
    make_rule("ping_url", ping(http_sink, "/flaky", signing_secret=SECRET))
    add_emails(api, make_list(), "retry@example.com")

    [delivery] = settled(1)
    assert (delivery.attempts, delivery.last_response_status, delivery.next_attempt_at) == \
        (2, 200, None)
    first, second = attempts_of(delivery.id)
    assert [(a.number, a.succeeded, a.response_status, a.response_body) for a in (first, second)] \
        == [(1, False, 500, "boom"), (2, True, 200, "thanks")]
    # The second attempt waited for the schedule's second delay (1 s).
    assert second.started_at - first.started_at >= timedelta(seconds=1)
    requests = http_sink.received("/flaky")
    assert len(requests) == 2
    for request in requests:
        assert request.headers["webhook-id"] == str(delivery.id)
        assert Webhook(SECRET).verify(request.body, request.headers) == \
            {"email": "retry@example.com"}


def test_retry_after_is_honoured(workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0, 1, 1")
    workers.start(1)
    http_sink.script("/busy", Reply(503, headers={"Retry-After": "120"}))
    make_rule("ping_url", ping(http_sink, "/busy"))
    add_emails(api, make_list(), "busy@example.com")

    [delivery] = settled(1, (DeliveryStatus.RETRYING,))
    [attempt] = attempts_of(delivery.id)
    assert (attempt.succeeded, attempt.response_status) == (False, 503)
    assert attempt.response_headers["Retry-After"] == "120"
    # Not the schedule's 1 s: the receiver asked for two minutes.
    wait = delivery.next_attempt_at - attempt.started_at
    assert timedelta(seconds=120) <= wait < timedelta(seconds=121)


def test_a_receiver_that_never_answers_is_a_timed_out_attempt(
        workers, api, http_sink, make_list, make_rule):
    project_settings(retry_schedule="0")
    workers.start(1)
    http_sink.script("/silent", Reply(hang=True))
    make_rule("ping_url", ping(http_sink, "/silent", timeout=1))
    add_emails(api, make_list(), "silent@example.com")

    [delivery] = settled(1, (DeliveryStatus.FAILED,))
    [attempt] = attempts_of(delivery.id)
    assert not attempt.succeeded and attempt.response_status is None
    assert attempt.error == "Timed out after 1 s."
    assert 1000 <= attempt.duration_ms < 10_000
    assert (delivery.attempts, delivery.next_attempt_at) == (1, None)
    assert len(http_sink.received("/silent")) == 1


def test_a_worker_killed_mid_batch_loses_no_delivery(
        make_workers, api, http_sink, make_list, make_rule):
    pool = make_workers(OPTINTEL_LEASE_SECONDS=2, OPTINTEL_REQUEUE_AFTER_SECONDS=1).start(1)
    emails = [f"killed{n}@example.com" for n in range(10)]
    # The first answers take long: the whole batch is in flight when the worker dies.
    http_sink.script("/slow", *[Reply(delay=30)] * len(emails))
    make_rule("ping_url", ping(http_sink, "/slow", signing_secret=SECRET))
    add_emails(api, make_list(), *emails)
    wait_for(lambda: len(http_sink.received("/slow")) == len(emails), PATIENCE,
             message="the batch in flight")

    victim = pool.procs[0]
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL
    assert {d.status for d in deliveries()} == {DeliveryStatus.PENDING}
    # Each attempt was recorded as started before it was sent; none got an outcome.
    assert [a.state for a in fresh(sa.select(Attempt))] == [AttemptState.STARTED] * len(emails)
    pool.start(1)

    rows = settled(len(emails))
    assert all(d.attempts >= 1 for d in rows)
    requests = http_sink.received("/slow")
    assert len(requests) >= 2 * len(emails)
    # Receivers de-duplicate on webhook-id: the same id for every try of one delivery.
    assert {r.headers["webhook-id"] for r in requests} == {str(d.id) for d in rows}
    assert sorted(Webhook(SECRET).verify(r.body, r.headers)["email"]
                  for r in requests[-len(emails):]) == sorted(emails)


def test_contacts_added_while_redis_is_down_are_delivered_once_it_is_back(
        make_workers, redis_server, api, http_sink, make_list, make_rule):
    pool = make_workers(OPTINTEL_REQUEUE_AFTER_SECONDS=1).start(1)
    opt_out_list = make_list()
    make_rule("ping_url", ping(http_sink, "/hook"))
    add_emails(api, opt_out_list, "before@example.com")
    settled(1)

    redis_server.stop()
    try:
        add_emails(api, opt_out_list, *[f"outage{n}@example.com" for n in range(5)])
        assert len(fresh(sa.select(Event).where(Event.dispatched_at.is_(None)))) == 5
        assert len(fresh(sa.select(Contact))) == 6
    finally:
        redis_server.start()

    settled(6)
    assert fresh(sa.select(Event).where(Event.dispatched_at.is_(None))) == []
    assert len(http_sink.received("/hook")) == 6
    # The worker that lived through the outage did the work: nobody restarted it.
    [worker] = pool.procs
    assert worker.poll() is None


def test_two_add_rules_feeding_each_other_stop_at_the_depth_limit(
        make_workers, api, make_list, make_rule):
    make_workers(OPTINTEL_MAX_CHAIN_DEPTH=1).start(1)
    list_a, list_b = make_list(), make_list()
    a_to_b = make_rule("add_to_list", {"list_id": list_b.id}, "email_list", list_a.id)
    b_to_a = make_rule("add_to_list", {"list_id": list_a.id}, "email_list", list_b.id)
    add_emails(api, list_a, "loop@example.com")

    rows = settled(2, (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED))
    by_rule = {d.rule_id: d for d in rows}
    assert by_rule[a_to_b].status == DeliveryStatus.SUCCEEDED
    stopped = by_rule[b_to_a]
    assert stopped.status == DeliveryStatus.SKIPPED
    assert stopped.note == ("Stopped: this event is 1 actions deep, the limit of a chain of "
                            "Add/Remove actions is 1.")
    first, caused = fresh(sa.select(Event).order_by(Event.id))
    assert (caused.list_id, caused.caused_by_event_id, caused.depth) == (list_b.id, first.id, 1)
    assert stopped.event_id == caused.id
    assert len(fresh(sa.select(Event))) == 2


def test_a_loop_that_would_never_end_stops_at_the_default_depth(
        workers, api, make_list, make_rule):
    workers.start(1)
    list_a, list_b = make_list(), make_list()
    # a added -> add to b -> remove from a -> remove from b -> add to a -> ... without a limit.
    make_rule("add_to_list", {"list_id": list_b.id}, "email_list", list_a.id)
    make_rule("remove_from_list", {"list_id": list_a.id}, "email_list", list_b.id)
    make_rule("remove_from_list", {"list_id": list_b.id}, "email_list", list_a.id,
              trigger="contact_deleted")
    last = make_rule("add_to_list", {"list_id": list_a.id}, "email_list", list_b.id,
                     trigger="contact_deleted")
    add_emails(api, list_a, "forever@example.com")

    rows = settled(4, (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED))
    assert [(d.rule_id == last, d.status) for d in rows] == [
        (False, DeliveryStatus.SUCCEEDED)] * 3 + [(True, DeliveryStatus.SKIPPED)]
    assert "limit of a chain of Add/Remove actions is 3" in rows[-1].note
    assert [e.depth for e in fresh(sa.select(Event).order_by(Event.id))] == [0, 1, 2, 3]


def test_private_targets_are_refused_unless_their_network_is_allowed(
        make_workers, api, http_sink, make_list, make_rule):
    make_workers(OPTINTEL_ALLOW_PRIVATE_TARGETS=0).start(1)
    opt_out_list = make_list()
    make_rule("ping_url", ping(http_sink, "/private"))
    make_rule("slack", {"webhook_url": http_sink.url + "/slack", "text": "{{contact}}"})
    add_emails(api, opt_out_list, "first@example.com")

    refused = settled(2, (DeliveryStatus.FAILED,))
    for delivery in refused:
        [attempt] = attempts_of(delivery.id)
        assert attempt.error == "127.0.0.1 is not a public address; requests to it are refused."
        assert attempt.response_status is None and delivery.attempts == 1
    assert http_sink.received() == []

    project_settings(allowed_target_cidrs="10.0.0.0/8\n127.0.0.0/8")
    add_emails(api, opt_out_list, "second@example.com")
    rows = settled(4, (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED))
    assert [d.status for d in rows[2:]] == [DeliveryStatus.SUCCEEDED] * 2
    assert sorted(r.route for r in http_sink.received()) == ["/private", "/slack"]


def test_a_rule_disabled_or_deleted_before_its_delivery_ran_is_skipped(
        workers, api, http_sink, make_list, make_rule):
    kept = make_rule("ping_url", ping(http_sink, "/kept"))
    disabled = make_rule("ping_url", ping(http_sink, "/disabled"))
    deleted = make_rule("ping_url", ping(http_sink, "/deleted"))
    add_emails(api, make_list(), "gone@example.com")
    [event_id] = fresh(sa.select(Event.id))
    dispatch([event_id])
    delivery_ids = {d.rule_id: d.id for d in deliveries()}
    assert api.patch(f"/tracking-rules/{disabled}", {"status": "disabled"}).status_code == 200
    assert api.delete(f"/tracking-rules/{deleted}").status_code == 204
    workers.start(1)

    rows = {d.id: d for d in settled(3, (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED))}
    assert rows[delivery_ids[kept]].status == DeliveryStatus.SUCCEEDED
    assert (rows[delivery_ids[disabled]].status, rows[delivery_ids[disabled]].note) == \
        (DeliveryStatus.SKIPPED, "The rule was disabled before it ran.")
    assert (rows[delivery_ids[deleted]].status, rows[delivery_ids[deleted]].note) == \
        (DeliveryStatus.SKIPPED, "The rule was deleted before it ran.")
    assert rows[delivery_ids[deleted]].rule_id is None
    assert [r.route for r in http_sink.received()] == ["/kept"]
    assert fresh(sa.select(Attempt.delivery_id)) == [delivery_ids[kept]]


# The retry schedule ---------------------------------------------------------------------

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
SCHEDULE = [0, 5, 300, 1800]


def test_the_first_attempt_is_immediate():
    assert next_attempt_at(0, SCHEDULE, None, NOW) == NOW


@pytest.mark.parametrize("attempts_done, delay", [(1, 5), (2, 300), (3, 1800)])
def test_each_retry_waits_its_delay_with_up_to_ten_percent_jitter(attempts_done, delay):
    waits = {next_attempt_at(attempts_done, SCHEDULE, None, NOW) - NOW for _ in range(200)}
    assert all(timedelta(seconds=delay) <= w <= timedelta(seconds=delay * 1.1) for w in waits)
    assert len(waits) > 1


def test_a_longer_retry_after_wins_a_shorter_one_does_not():
    assert next_attempt_at(1, SCHEDULE, 120, NOW) == NOW + timedelta(seconds=120)
    wait = next_attempt_at(2, SCHEDULE, 10, NOW) - NOW
    assert timedelta(seconds=300) <= wait <= timedelta(seconds=330)


def test_retry_after_is_capped_at_a_day():
    assert next_attempt_at(1, SCHEDULE, 10 ** 9, NOW) == NOW + timedelta(seconds=MAX_DELAY)


def test_a_spent_schedule_means_no_further_attempt():
    assert next_attempt_at(4, SCHEDULE, None, NOW) is None
    assert next_attempt_at(4, SCHEDULE, 60, NOW) is None
    assert next_attempt_at(1, [0], None, NOW) is None


@pytest.mark.parametrize("header, seconds", [("120", 120.0), ("0", 0.0), ("-5", 0.0),
                                             ("soon", None), ("", None), (None, None)])
def test_retry_after_header_in_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_header_as_an_http_date():
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    seconds = retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert 85 <= seconds <= 90


# The target policy (server-side request forgery) ------------------------------------------

REFUSED = ["127.0.0.1", "127.9.9.9", "10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1",
           "169.254.169.254", "0.0.0.0", "224.0.0.1", "239.255.255.250", "::1", "fe80::1",
           "fc00::1", "ff02::1", "::ffff:127.0.0.1"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused_by_default(address):
    with pytest.raises(UnsafeTarget, match="not a public address"):
        TargetPolicy().check(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    TargetPolicy().check(address)


@pytest.mark.parametrize("address", REFUSED)
def test_the_development_allowance_lifts_the_refusal(address):
    TargetPolicy(allow_private=True).check(address)


def test_an_allow_list_opens_its_networks_only():
    policy = TargetPolicy.from_settings(False, "127.0.0.0/8\n10.1.0.0/16, fd00::/8")
    for address in ("127.0.0.1", "10.1.2.3", "fd12::1", "8.8.8.8"):
        policy.check(address)
    for address in ("10.2.0.1", "169.254.169.254", "192.168.1.1", "::1"):
        with pytest.raises(UnsafeTarget):
            policy.check(address)


def test_a_host_is_checked_after_resolving_it_and_nothing_is_sent(http_sink):
    with pytest.raises(UnsafeTarget):
        resolve("localhost", 80, TargetPolicy())
    url = f"http://localhost:{http_sink.url.rsplit(':', 1)[1]}/hook"
    result = sending_loop.run(http.send_async("POST", url, {}, "{}", 2, TargetPolicy()))
    assert result.refused and result.status is None and "not a public address" in result.error
    assert http_sink.received() == []
    allowed = sending_loop.run(http.send_async(
        "POST", url, {}, "{}", 2, TargetPolicy.from_settings(False, "127.0.0.0/8\n::1/128")))
    assert (allowed.status, allowed.refused) == (200, False)
    assert [r.route for r in http_sink.received()] == ["/hook"]
