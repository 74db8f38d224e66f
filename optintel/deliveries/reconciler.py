"""The database holds the truth, Redis only carries work: this hands out again what Redis lost
(after an outage, a flush, or a worker killed mid-batch) and the retries that fell due."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..events.outbox import enqueue_dispatch
from ..extensions import db
from ..models import Delivery, Event
from ..models.columns import utcnow
from ..queue import DELIVERIES_QUEUE, EVENTS_QUEUE, queue
from ..tracking_log import test_runs
from .queueing import IN_FLIGHT, enqueue_deliveries

log = logging.getLogger(__name__)
LIMIT = 10_000
# With more jobs than this waiting, work that looks lost is more likely just queued.
BACKLOG = 50


def reconcile():
    """Re-enqueue undispatched events and due deliveries that have no live job."""
    now = utcnow()
    lost_before = now - timedelta(seconds=current_app.config["OPTINTEL_REQUEUE_AFTER_SECONDS"])
    events = []
    if queue(EVENTS_QUEUE).count < BACKLOG:
        events = db.session.scalars(
            sa.select(Event.id).where(Event.dispatched_at.is_(None), Event.occurred_at < lost_before)
            .order_by(Event.id).limit(LIMIT)).all()
        for start in range(0, len(events), 1000):
            enqueue_dispatch(events[start:start + 1000])
    table = Delivery.__table__
    # A retry that fell due, or (when the queue is short) work whose job looks lost.
    handed_out = [table.c.enqueued_at.is_(None), table.c.enqueued_at < table.c.next_attempt_at]
    short_queue = queue(DELIVERIES_QUEUE).count < BACKLOG
    if short_queue:
        handed_out.append(table.c.enqueued_at < lost_before)
    deliveries = db.session.scalars(
        sa.select(table.c.id).where(table.c.status.in_(IN_FLIGHT), table.c.next_attempt_at <= now,
                                    sa.or_(table.c.lease_until.is_(None),
                                           table.c.lease_until < now),
                                    sa.or_(*handed_out))
        .order_by(table.c.next_attempt_at).limit(LIMIT)).all()
    runs = test_runs.lost(lost_before) if short_queue else []
    db.session.rollback()
    enqueue_deliveries(deliveries)
    for run_id in runs:
        test_runs.enqueue(run_id)
    if events or deliveries:
        log.info("Reconciler handed out %d event(s) and %d delivery(ies)", len(events),
                 len(deliveries))
    return len(events), len(deliveries)
