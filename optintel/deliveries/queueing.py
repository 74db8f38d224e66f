"""Handing committed deliveries to the RQ queue in batches, marked handed out (enqueued_at); those
not handed over wait for the reconciler."""
import logging

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from ..extensions import db
from ..models import Delivery
from ..models.columns import utcnow
from ..queue import DELIVERIES_QUEUE, queue
from ..sql import among

log = logging.getLogger(__name__)
EXECUTE_JOB = "optintel.jobs.execute_deliveries"


def enqueue_deliveries(delivery_ids, marked=False):
    """One job per batch of committed deliveries, marked handed out once they are; returns how
    many were. Deliveries `marked` as they were inserted (dispatch) are unmarked when Redis did
    not take them. Those not handed over wait for the reconciler."""
    if not delivery_ids:
        return 0
    size, handed = current_app.config["OPTINTEL_DELIVERY_BATCH"], []
    try:
        q = queue(DELIVERIES_QUEUE)
        with q.connection.pipeline() as pipe:
            for start in range(0, len(delivery_ids), size):
                batch = delivery_ids[start:start + size]
                q.enqueue(EXECUTE_JOB, batch, job_timeout=3600,
                          result_ttl=0, failure_ttl=86400, pipeline=pipe)
                handed += batch
            pipe.execute()
    except RedisError as exc:
        log.warning("Redis unavailable, %d delivery(ies) wait for the reconciler: %s",
                    len(delivery_ids), exc)
        if marked:
            _mark(delivery_ids, None)
        return 0
    if not marked:
        _mark(handed, utcnow())
    return len(handed)


def _mark(delivery_ids, enqueued_at):
    table = Delivery.__table__
    db.session.execute(sa.update(table).where(among(table.c.id, delivery_ids))
                       .values(enqueued_at=enqueued_at))
    db.session.commit()
