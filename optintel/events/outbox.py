"""Handing committed events to the RQ queue; events whose hand-off fails wait in the table."""
import logging

from redis.exceptions import RedisError

from ..queue import EVENTS_QUEUE, queue

log = logging.getLogger(__name__)


def enqueue_dispatch(event_ids):
    """Enqueue one dispatch job for these committed events; False when Redis is unreachable."""
    if not event_ids:
        return True
    try:
        queue(EVENTS_QUEUE).enqueue("optintel.jobs.dispatch_events", list(event_ids),
                                    job_timeout=600, result_ttl=0)
    except RedisError as exc:
        # The events are committed with dispatched_at NULL; they are dispatched once Redis is back.
        log.warning("Redis unavailable, %d event(s) left undispatched: %s", len(event_ids), exc)
        return False
    return True
