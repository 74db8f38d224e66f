"""Leases follow the worker: a worker renews the leases of the deliveries it holds, so that a
killed worker's deliveries are attempted again within a minute with the default settings; each
attempt is recorded as started before it is sent, so that the attempt a crash cut short shows as
interrupted (Tracking Log and API), and its retry keeps the webhook-id. A worker told to stop
releases what it holds instead of making everyone wait. Real workers, Redis and HTTP sink."""
import base64
import os
import signal
import time
from collections import Counter

import sqlalchemy as sa
from redis import Redis
from rq import Worker
from standardwebhooks import Webhook

from optintel.config import Config
from optintel.models import Attempt, AttemptState, Delivery, DeliveryStatus
from optintel.models.columns import utcnow
from tests.conftest import Reply, fresh, wait_for

SECRET = "whsec_" + base64.b64encode(b"opt-intel-lease-tests-signing-k").decode()
# The product's own defaults, not the fixtures' quick ones: the promise is about these.
DEFAULTS = {name: getattr(Config, name) for name in (
    "OPTINTEL_LEASE_SECONDS", "OPTINTEL_RECONCILE_SECONDS", "OPTINTEL_REQUEUE_AFTER_SECONDS")}
RECOVERY = 60
# Generous: a worker booting on a loaded machine takes seconds.
PATIENCE = 60
INTERRUPTED = "The worker stopped during this attempt."


def ping(http_sink, path):
    return {"method": "POST", "url": http_sink.url + path, "content_type": "json",
            "body": '{"email": "{{email}}"}', "signing_secret": SECRET}


def add_emails(api, opt_out_list, emails):
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", {"emails": emails})
    assert response.status_code == 200 and response.json["added"] == len(emails), response.json


def deliveries():
    return fresh(sa.select(Delivery).order_by(Delivery.id))


def attempts_by_delivery():
    found = {}
    for attempt in fresh(sa.select(Attempt).order_by(Attempt.delivery_id, Attempt.number)):
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def settled(count, timeout):
    def done():
        rows = deliveries()
        return rows if len(rows) == count and \
            all(r.status == DeliveryStatus.SUCCEEDED for r in rows) else None
    return wait_for(done, timeout, interval=0.2, message=f"{count} deliveries to succeed")


def in_flight(http_sink, path, count):
    wait_for(lambda: len(http_sink.received(path)) >= count, PATIENCE,
             message="the batch in flight")


def test_a_killed_workers_deliveries_are_attempted_again_within_a_minute(
        make_workers, redis_server, api, as_admin, http_sink, make_list, make_rule):
    pool = make_workers(**DEFAULTS).start(1)
    emails = [f"held{n}@example.com" for n in range(5)]
    # The first answers take long: the whole batch is in flight when the worker dies.
    http_sink.script("/slow", *[Reply(delay=120)] * len(emails))
    make_rule("ping_url", ping(http_sink, "/slow"))
    add_emails(api, make_list(), emails)
    in_flight(http_sink, "/slow", len(emails))
    pool.start(1)
    wait_for(lambda: Worker.count(connection=Redis.from_url(redis_server.url)) == 2, PATIENCE,
             message="the second worker")

    victim = pool.procs[0]
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    assert victim.wait(10) == -signal.SIGKILL
    rows = settled(len(emails), RECOVERY)
    assert time.monotonic() - killed_at < RECOVERY

    tried = attempts_by_delivery()
    for delivery in rows:
        first, second = tried[delivery.id]
        assert (first.number, first.state, first.succeeded, first.error) == \
            (1, AttemptState.INTERRUPTED, False, INTERRUPTED)
        assert (second.number, second.state, second.succeeded, second.response_status) == \
            (2, AttemptState.COMPLETED, True, 200)
        assert delivery.attempts == 2 and delivery.lease_until is None
    # The receiver got each delivery twice, both times with its id: it can de-duplicate.
    requests = http_sink.received("/slow")
    assert Counter(r.headers["webhook-id"] for r in requests) == \
        {str(d.id): 2 for d in rows}
    assert sorted(Webhook(SECRET).verify(r.body, r.headers)["email"]
                  for r in requests[len(emails):]) == sorted(emails)

    shown = api.get(f"/deliveries/{rows[0].id}").json["attempts"]
    assert [(a["number"], a["state"], a["error"]) for a in shown] == \
        [(1, "interrupted", INTERRUPTED), (2, "completed", "")]
    page = as_admin.htmx("POST", f"/logs/deliveries/{rows[0].id}/log").get_data(as_text=True)
    assert "Attempt 1 · interrupted" in page and INTERRUPTED in page
    assert "Attempt 2 · succeeded" in page


def test_a_worker_told_to_stop_releases_its_deliveries_and_ends_at_once(
        make_workers, api, http_sink, make_list, make_rule):
    # Two attempts at a time: of five deliveries, two are sent and three wait their turn.
    pool = make_workers(OPTINTEL_LEASE_SECONDS=DEFAULTS["OPTINTEL_LEASE_SECONDS"],
                        OPTINTEL_CONCURRENCY=2).start(1)
    emails = [f"stopping{n}@example.com" for n in range(5)]
    http_sink.script("/slow", Reply(delay=120), Reply(delay=120))
    make_rule("ping_url", ping(http_sink, "/slow"))
    add_emails(api, make_list(), emails)
    in_flight(http_sink, "/slow", 2)

    victim = pool.procs[0]
    victim.terminate()
    stopped_at = time.monotonic()
    assert victim.wait(10) == 0
    # Nothing is held any more: the two sent are started attempts without an outcome, the three
    # that waited were never attempted.
    now = utcnow()
    rows = deliveries()
    assert all(d.status == DeliveryStatus.PENDING and d.lease_until is not None
               and d.lease_until <= now for d in rows)
    started = attempts_by_delivery()
    assert sorted(len(a) for a in started.values()) == [1, 1]
    assert {a[0].state for a in started.values()} == {AttemptState.STARTED}
    assert sorted(d.attempts for d in rows) == [0, 0, 0, 1, 1]

    pool.start(1)
    rows = settled(len(emails), PATIENCE)
    # Handed out again at once, not after their lease would have run out.
    assert time.monotonic() - stopped_at < DEFAULTS["OPTINTEL_LEASE_SECONDS"]
    tried = attempts_by_delivery()
    assert sorted([a.state for a in tried[d.id]] for d in rows) == \
        [[AttemptState.COMPLETED]] * 3 + [[AttemptState.INTERRUPTED, AttemptState.COMPLETED]] * 2
    assert len(http_sink.received("/slow")) == 7
    assert "Traceback" not in pool.logs()


def test_a_worker_told_to_stop_after_redis_stopped_still_releases_its_deliveries(
        make_workers, redis_server, api, http_sink, make_list, make_rule):
    # As under `make run`, where Ctrl-C stops Redis at the same time as the workers.
    pool = make_workers(OPTINTEL_LEASE_SECONDS=DEFAULTS["OPTINTEL_LEASE_SECONDS"]).start(1)
    emails = [f"after-redis{n}@example.com" for n in range(3)]
    http_sink.script("/slow", *[Reply(delay=120)] * len(emails))
    make_rule("ping_url", ping(http_sink, "/slow"))
    add_emails(api, make_list(), emails)
    in_flight(http_sink, "/slow", len(emails))

    redis_server.stop()
    try:
        victim = pool.procs[0]
        victim.terminate()
        assert victim.wait(10) == 0
    finally:
        redis_server.start()
    now = utcnow()
    assert all(d.lease_until is not None and d.lease_until <= now for d in deliveries())
    assert {a[0].state for a in attempts_by_delivery().values()} == {AttemptState.STARTED}
    assert "Traceback" not in pool.logs()
