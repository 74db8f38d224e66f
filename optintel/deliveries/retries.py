"""Retries of failed attempts: the schedule, the decision after a failed attempt (retry when, or
fail), and which retries fell due. Retrying by hand is in retry_by_hand.py."""
import random
from datetime import timedelta

import sqlalchemy as sa

from ..models import Delivery, DeliveryStatus

# A Retry-After answer is honoured up to a day.
MAX_DELAY = 24 * 3600


def next_attempt_at(attempts_done, delays, retry_after, now):
    """The time of the next attempt after `attempts_done` attempts, or None when the schedule
    is spent. `delays` are the seconds before each attempt (the first is the first try);
    jitter spreads retries by up to 10 %; a Retry-After answer is honoured when longer."""
    if attempts_done >= len(delays):
        return None
    delay = delays[attempts_done] * (1 + random.uniform(0, 0.1))
    if retry_after:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return now + timedelta(seconds=delay)


def after_failure(attempts_done, outcome, delays, now):
    """(status, next attempt time) of a delivery whose attempt number `attempts_done` failed:
    retrying on the schedule, or failed when the schedule is spent or retrying cannot help."""
    retry_at = None if outcome.permanent else \
        next_attempt_at(attempts_done, delays, outcome.retry_after, now)
    return (DeliveryStatus.RETRYING, retry_at) if retry_at else (DeliveryStatus.FAILED, None)


def due_query(now, lost_before, limit=10_000):
    """SELECT of the ids of in-flight deliveries whose attempt is due, that no worker holds and
    that wait for no job: never handed to the queue, a retry that fell due after it was handed
    out, held by a worker whose lease ran out (it died) or who released them, or handed out
    before `lost_before` and presumably lost. Earliest due first, then oldest."""
    table = Delivery.__table__
    waiting = [table.c.enqueued_at.is_(None), table.c.enqueued_at < table.c.next_attempt_at,
               # Taken after it was last handed out, and the lease has ended since.
               table.c.enqueued_at < table.c.lease_until,
               table.c.enqueued_at < lost_before]
    return (sa.select(table.c.id)
            .where(table.c.status.in_(DeliveryStatus.in_flight_statuses()),
                   table.c.next_attempt_at <= now,
                   Delivery.unleased(now),
                   sa.or_(*waiting))
            # Oldest first among those due at once (a rule's released deliveries are).
            .order_by(table.c.next_attempt_at, table.c.id).limit(limit))
