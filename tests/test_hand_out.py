"""Handing deliveries to the queue: a dispatch marks the deliveries it hands out as it inserts
them, with no second write; those Redis did not take are left to the reconciler, which also
hands out again, at its next tick, a delivery whose job was lost while the queue is empty, and
behind a backlog of jobs leaves what is due to them.
Against the real Redis (or a closed port)."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.deliveries.reconciler import BACKLOG, reconcile
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus
from optintel.queue import DELIVERIES_QUEUE, queue
from tests.conftest import fresh, statements_of


def ping(url):
    return {"method": "POST", "url": url, "content_type": "json", "body": "{}"}


def events_of(make_list, count):
    return add_contacts(make_list(), [f"h{n}@example.com" for n in range(count)],
                        Origin("api")).event_ids


def test_a_dispatch_marks_the_deliveries_it_hands_out_as_it_inserts_them(app, http_sink,
                                                                         make_list, make_rule):
    app.config["OPTINTEL_DELIVERY_BATCH"] = 2
    make_rule("ping_url", ping(http_sink.url + "/hook"))
    event_ids = events_of(make_list, 3)
    deliveries = queue(DELIVERIES_QUEUE)
    deliveries.empty()

    ids, statements = statements_of(lambda: dispatch(event_ids))
    assert len(ids) == 3
    assert [job.args[0] for job in deliveries.jobs] == [[ids[0], ids[1]], [ids[2]]]
    assert all(d.enqueued_at is not None for d in fresh(sa.select(Delivery)))
    # Inserted marked: no UPDATE of the deliveries after the jobs were enqueued.
    updates = [sql for sql, _ in statements if sql.lstrip().upper().startswith("UPDATE DELIVERIES")]
    assert updates == []


def test_with_redis_down_a_dispatch_leaves_its_deliveries_to_the_reconciler(
        app_without_redis, http_sink, make_list, make_rule):
    app_without_redis.config["OPTINTEL_DELIVERY_BATCH"] = 2
    make_rule("ping_url", ping(http_sink.url + "/hook"))

    ids = dispatch(events_of(make_list, 3))
    assert len(ids) == 3
    # Not handed out: the reconciler's next tick hands them out.
    assert [d.enqueued_at for d in fresh(sa.select(Delivery))] == [None] * 3


def test_a_delivery_whose_job_was_lost_is_handed_out_again_at_the_next_tick_when_the_queue_is_empty(
        app, http_sink, make_list, make_rule):
    app.config.update(OPTINTEL_RECONCILE_SECONDS=2, OPTINTEL_REQUEUE_AFTER_SECONDS=60)
    make_rule("ping_url", ping(http_sink.url + "/hook"))
    ids = dispatch(events_of(make_list, 2))
    deliveries = queue(DELIVERIES_QUEUE)
    # Their job lost (a Redis flush, or the worker died between its commit and the enqueue).
    deliveries.empty()
    table, now = Delivery.__table__, datetime.now(timezone.utc)
    db.session.execute(sa.update(table).values(next_attempt_at=now - timedelta(seconds=10),
                                               enqueued_at=now - timedelta(seconds=1)))
    db.session.commit()
    # Handed out a second ago: maybe its job has just been taken.
    assert reconcile() == 0

    db.session.execute(sa.update(table).values(enqueued_at=now - timedelta(seconds=5)))
    db.session.commit()
    # Other jobs waiting: presumably just queued, until OPTINTEL_REQUEUE_AFTER_SECONDS.
    deliveries.enqueue("optintel.jobs.execute_deliveries", [])
    assert reconcile() == 0
    # Nothing waiting: no job holds them.
    deliveries.empty()
    assert reconcile() == 2
    assert [job.args[0] for job in deliveries.jobs] == [ids]


def test_behind_a_backlog_of_jobs_the_reconciler_reads_nothing_and_a_waiting_job_takes_what_is_due(
        app, http_sink, make_list, make_rule):
    make_rule("ping_url", ping(http_sink.url + "/hook"))
    ids = dispatch(events_of(make_list, 2))
    deliveries = queue(DELIVERIES_QUEUE)
    deliveries.empty()
    # Never handed out (Redis refused them), behind a backlog of other deliveries' jobs.
    db.session.execute(sa.update(Delivery.__table__).values(enqueued_at=None))
    db.session.commit()
    for _ in range(BACKLOG):
        deliveries.enqueue("optintel.jobs.execute_deliveries", [])

    handed, statements = statements_of(reconcile)
    assert handed == 0
    assert not [sql for sql, _ in statements if "FROM deliveries" in sql]
    assert deliveries.count == BACKLOG
    # What the first job of the backlog runs (jobs.execute_deliveries) takes every due delivery,
    # whichever ids it was given.
    assert execute([], fill_batch=True) == 2
    assert [d.status for d in fresh(sa.select(Delivery))] == [DeliveryStatus.SUCCEEDED] * 2
    assert len(http_sink.received("/hook")) == len(ids) == 2
