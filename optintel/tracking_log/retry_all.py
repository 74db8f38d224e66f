"""Retry all: every failed or succeeded delivery that a Tracking Log filter shows a user is
attempted once more, by a background job that works in batches."""
import logging

import sqlalchemy as sa
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

from ..deliveries.retrying import RETRYABLE, retry_many
from ..extensions import db
from ..models import Delivery, DeliveryStatus, User
from ..queue import DELIVERIES_QUEUE, queue
from ..rules.editing import managed_scopes
from .filters import LogFilter, apply

log = logging.getLogger(__name__)
BATCH = 500


class NotStarted(Exception):
    """The job could not be handed to the workers."""


def _retryable(user, log_filter, columns):
    table = Delivery.__table__
    return apply(sa.select(*columns), table, log_filter).where(
        managed_scopes(user, table.c.level, table.c.scope_id), table.c.status.in_(RETRYABLE))


def retryable_counts(user, log_filter):
    """{status: how many} of the failed and succeeded deliveries that the filter shows the user."""
    status = Delivery.__table__.c.status
    rows = db.session.execute(_retryable(user, log_filter, [status, sa.func.count()])
                              .group_by(status))
    found = {DeliveryStatus(s): n for s, n in rows}
    return {s: found.get(s, 0) for s in RETRYABLE}


def start(user, log_filter):
    """Hand the retry of the filter's retryable rows to a worker. Rows that arrive later are not
    part of it: the job stops at the newest one there is now. Raises NotStarted."""
    up_to_id = db.session.scalar(_retryable(user, log_filter,
                                            [sa.func.max(Delivery.__table__.c.id)]))
    if up_to_id is None:
        return None
    try:
        return queue(DELIVERIES_QUEUE).enqueue(
            "optintel.jobs.retry_matching", log_filter.args(), user.id, up_to_id,
            job_timeout=3600, result_ttl=0, failure_ttl=86400)
    except RedisError as exc:
        log.warning("Redis unavailable, retry all not started: %s", exc)
        raise NotStarted("The workers' queue is unavailable; try again in a moment.") from exc


def retry_matching(filter_args, user_id, up_to_id=None):
    """Retry, newest first and BATCH at a time, the retryable rows the filter shows the user
    (up to `up_to_id`); returns how many were retried."""
    user = db.session.get(User, user_id)
    if user is None:
        return 0
    log_filter = LogFilter.from_args(MultiDict(filter_args))
    table, retried, below = Delivery.__table__, 0, None
    while True:
        query = _retryable(user, log_filter, [table.c.id])
        if up_to_id is not None:
            query = query.where(table.c.id <= up_to_id)
        if below is not None:
            query = query.where(table.c.id < below)
        ids = db.session.scalars(query.order_by(table.c.id.desc()).limit(BATCH)).all()
        if not ids:
            break
        retried += retry_many(ids, user)
        below = ids[-1]
    return retried
