"""The outbox of events: each contact change records its events in its own transaction, and
hands them to the queue after the commit. Events whose hand-off failed (Redis down, or lost
later) wait in the table, with dispatched_at NULL, until `hand_off_lost` hands them out again."""
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError

from ..extensions import db
from ..models import Event
from ..models.columns import utcnow
from ..queue import EVENTS_QUEUE, queue
from ..sql import insert_rows
from . import counts

log = logging.getLogger(__name__)
DISPATCH_JOB = "optintel.jobs.dispatch_events"
LOST_LIMIT, LOST_BATCH = 10_000, 1000
# With more jobs than this waiting, an undispatched event is more likely queued than lost.
BACKLOG = 50
# Inside left_for_reconciler(): events are recorded, not handed to the queue.
_left_for_reconciler = ContextVar("outbox_left_for_reconciler", default=False)


def record(opt_out_list, trigger, rows, origin, now):
    """Insert one event per changed contact row ((md5, value, mailer_id, campaign_id)) in the
    caller's transaction; returns their ids."""
    if not rows:
        return []
    constants = {"trigger": trigger, "channel": opt_out_list.channel, "list_id": opt_out_list.id,
                 "source": origin.source, "occurred_at": now,
                 "caused_by_event_id": origin.caused_by_event_id, "depth": origin.depth}
    counts.add(opt_out_list, trigger, rows, now)
    return [event_id for event_id, in insert_rows(
        Event.__table__, constants, ("contact_md5", "contact", "mailer_id", "campaign_id"), rows,
        returning=("id",))]


@contextmanager
def left_for_reconciler():
    """Record events without handing them to the queue: the workers' reconciler hands them out
    once a worker runs (`flask demo seed` runs before Redis is up)."""
    token = _left_for_reconciler.set(True)
    try:
        yield
    finally:
        _left_for_reconciler.reset(token)


def hand_off(event_ids):
    """Enqueue one dispatch job for these committed events; False when Redis is unreachable, or
    the events are left_for_reconciler()."""
    if not event_ids:
        return True
    if _left_for_reconciler.get():
        return False
    try:
        queue(EVENTS_QUEUE).enqueue(DISPATCH_JOB, list(event_ids), job_timeout=600, result_ttl=0)
    except RedisError as exc:
        # The events are committed with dispatched_at NULL; they are dispatched once Redis is back.
        log.warning("Redis unavailable, %d event(s) left undispatched: %s", len(event_ids), exc)
        return False
    return True


def hand_off_lost(older_than_seconds):
    """Hand out again the events still undispatched after that long (their job was lost, or
    Redis was down when they were recorded); returns how many."""
    if queue(EVENTS_QUEUE).count >= BACKLOG:
        return 0
    before = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        sa.select(Event.id).where(Event.dispatched_at.is_(None), Event.occurred_at < before)
        .order_by(Event.id).limit(LOST_LIMIT)).all()
    db.session.rollback()
    for start in range(0, len(ids), LOST_BATCH):
        hand_off(ids[start:start + LOST_BATCH])
    return len(ids)
