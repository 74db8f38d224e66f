"""The hourly delivery counts of the Tracking Log's chart, moved in the same transaction as the
deliveries whose status they count."""
from collections import Counter
from functools import partial

import sqlalchemy as sa

from ..extensions import db
from ..models import Delivery, DeliveryCount
from ..sql import add_counts

KEY = ("rule_id", "level", "scope_id", "trigger", "action", "host")


def hour_of(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def move(transitions):
    """Apply count changes for (delivery, old status or None, new status or None) transitions;
    `delivery` is anything with the Delivery columns (a row, an object or a mapping)."""
    deltas, created, hour = Counter(), None, None
    for delivery, old, new in transitions:
        if old == new:
            continue
        get = delivery.get if isinstance(delivery, dict) else partial(getattr, delivery)
        if get("created_at") is not created:  # a batch's deliveries share their creation time
            created = get("created_at")
            hour = hour_of(created)
        key = (hour, *(get(name) for name in KEY))
        if old is not None:
            deltas[(*key, old)] -= 1
        if new is not None:
            deltas[(*key, new)] += 1
    add_counts(DeliveryCount.__table__, ("hour", "rule_id", "status"),
               [dict(zip(("hour", *KEY, "status"), key), count=delta)
                for key, delta in deltas.items() if delta])


def change_status(where, old_statuses, new_status, **values):
    """Move the deliveries matching the conditions `where` that are in one of `old_statuses` to
    `new_status` (setting `values` too), with their counts, in the caller's transaction;
    returns their ids in order. One UPDATE per old status, conditional on it, so that the
    counts move from the right one even when a row changed since it was read."""
    table = Delivery.__table__
    returned = [table.c.id, table.c.created_at, *(table.c[name] for name in KEY)]
    moved = []
    for status in old_statuses:
        rows = db.session.execute(
            sa.update(table).where(*where, table.c.status == status)
            .values(status=new_status, **values).returning(*returned)).mappings().all()
        moved += [(dict(row), status, new_status) for row in rows]
    move(moved)
    return sorted(row["id"] for row, _, _ in moved)
