"""Handing deliveries to the RQ queue in batches, and a worker's claim on them."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from ..extensions import db
from ..models import Delivery, DeliveryStatus
from ..models.columns import utcnow
from ..queue import DELIVERIES_QUEUE, queue

log = logging.getLogger(__name__)
IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def enqueue_deliveries(delivery_ids):
    """One job per batch of committed deliveries; those not handed over wait for the reconciler."""
    if not delivery_ids:
        return 0
    size, handed = current_app.config["OPTINTEL_DELIVERY_BATCH"], []
    try:
        q = queue(DELIVERIES_QUEUE)
        with q.connection.pipeline() as pipe:
            for start in range(0, len(delivery_ids), size):
                batch = delivery_ids[start:start + size]
                q.enqueue("optintel.jobs.execute_deliveries", batch, job_timeout=3600,
                          result_ttl=0, failure_ttl=86400, pipeline=pipe)
                handed += batch
            pipe.execute()
    except RedisError as exc:
        log.warning("Redis unavailable, %d delivery(ies) wait for the reconciler: %s",
                    len(delivery_ids), exc)
        return 0
    table = Delivery.__table__
    db.session.execute(sa.update(table).where(table.c.id.in_(handed)).values(enqueued_at=utcnow()))
    db.session.commit()
    return len(handed)


def claim(delivery_ids):
    """Take the deliveries that are due and not held by another worker; returns their ids."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["OPTINTEL_LEASE_SECONDS"])
    table = Delivery.__table__
    stmt = (sa.update(table)
            .where(table.c.id.in_(delivery_ids), table.c.status.in_(IN_FLIGHT),
                   table.c.next_attempt_at <= now + timedelta(seconds=1),
                   sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now))
            .values(lease_until=lease).returning(table.c.id))
    claimed = db.session.scalars(stmt).all()
    db.session.commit()
    return claimed
