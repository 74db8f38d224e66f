"""The hourly delivery counts of the Tracking Log's chart, moved in the same transaction as the
deliveries whose status they count."""
from collections import Counter

from ..extensions import db
from ..models import DeliveryCount
from ..sql import dialect_insert

KEY = ("rule_id", "level", "scope_id", "trigger", "action", "host")


def hour_of(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def move(transitions):
    """Apply count changes for (delivery, old status or None, new status or None) transitions;
    `delivery` is anything with the Delivery columns (an object or a mapping)."""
    deltas = Counter()
    for delivery, old, new in transitions:
        if old == new:
            continue
        get = delivery.get if isinstance(delivery, dict) else delivery.__getattribute__
        key = (hour_of(get("created_at")), *(get(name) for name in KEY))
        if old is not None:
            deltas[(*key, old)] -= 1
        if new is not None:
            deltas[(*key, new)] += 1
    rows = [dict(zip(("hour", *KEY, "status"), key), count=delta)
            for key, delta in sorted(deltas.items(), key=lambda kv: str(kv[0])) if delta]
    if not rows:
        return
    table = DeliveryCount.__table__
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=["hour", "rule_id", "status"],
                                      set_={"count": table.c.count + stmt.excluded.count})
    db.session.execute(stmt, rows)
