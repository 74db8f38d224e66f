"""Retrying a delivery by hand, from the API or the Tracking Log: a failed or succeeded delivery
is attempted once more."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Delivery, DeliveryStatus
from ..models.columns import utcnow
from . import counts
from .queueing import enqueue_deliveries

RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED)


class NotRetryable(Exception):
    """The delivery is still in flight, or was skipped: there is nothing to retry."""


def retry(delivery, user):
    """Make a failed or succeeded delivery pending again, noted as the user's, and hand it to
    the workers (or, with Redis down, to the reconciler). Raises NotRetryable otherwise."""
    if retry_many([delivery.id], user) != 1:
        raise NotRetryable(f"This delivery is {delivery.status.value}; only failed or succeeded "
                           "deliveries can be retried.")
    return delivery


def retry_many(ids, user):
    """Make those of the deliveries that are failed or succeeded pending again, in one
    transaction with their counts, and hand them to the workers; returns how many."""
    table = Delivery.__table__
    returned = [table.c.id, table.c.created_at, *(table.c[name] for name in counts.KEY)]
    moved = []
    # One UPDATE per old status, conditional on it, so the counts move from the right one even
    # when a row changed since it was read.
    for status in RETRYABLE:
        rows = db.session.execute(
            sa.update(table).where(table.c.id.in_(ids), table.c.status == status)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow(), lease_until=None,
                    note=f"Retried by {user.email}"[:500])
            .returning(*returned)).mappings().all()
        moved += [(dict(row), status, DeliveryStatus.PENDING) for row in rows]
    counts.move(moved)
    db.session.commit()
    enqueue_deliveries(sorted(row["id"] for row, _, _ in moved))
    return len(moved)
