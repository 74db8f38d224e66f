"""Leases: a worker holds the deliveries it claimed for OPTINTEL_LEASE_SECONDS, renewed by its
heartbeat while it works on them, and lets go of them with their outcome or, when it stops
first, releases them for another worker. A lease that ran out is a worker that died: the
reconciler hands its deliveries out again (retries.due_query)."""
import logging
import threading
from collections import namedtuple
from datetime import timedelta
from functools import lru_cache
from operator import itemgetter

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Delivery, DeliveryStatus
from ..models.columns import utcnow
from ..server_log import log_failure
from ..sql import among, among_parameter, built_once, in_index_order, unindexed
from . import attempts

log = logging.getLogger(__name__)
# The ids of the deliveries this process leases, which its heartbeat renews.
_leased = set()
_lock = threading.Lock()


# What the claim returns of a delivery as it found it: the attempt it counts, and the state that
# another worker may have changed since the row was read.
CLAIMED = ("id", "status", "attempts", "last_response_status")


def _lease_end(now):
    return now + timedelta(seconds=current_app.config["OPTINTEL_LEASE_SECONDS"])


def due(delivery_ids, up_to=0, columns=("id",)):
    """The rows (`columns`) of the deliveries among these ids that are due and not leased by a
    live worker and, up to `up_to` in all, of other due ones, those due first first (as the
    reconciler would hand them out): what a batch claims, read before its claim's first write
    (on SQLite the writers' turn is held from it to the commit)."""
    now = utcnow()
    rows = db.session.execute(_due_among(tuple(columns)), {
        "ids": list(delivery_ids), "now": now, "soon": now + timedelta(seconds=1),
    }).all() if delivery_ids else []
    if len(rows) < up_to:
        given = {row.id for row in rows}
        others = [id_ for id_ in _next_due(now, up_to) if id_ not in given][:up_to - len(rows)]
        if others:
            rows += db.session.execute(_rows_among(tuple(columns)), {"ids": others}).all()
    return rows


@built_once
def _due_among(columns):
    table = Delivery.__table__
    return _rows_among(columns).where(table.c.next_attempt_at <= sa.bindparam("soon"), *_free())


@built_once
def _rows_among(columns):
    table = Delivery.__table__
    return sa.select(*(table.c[name] for name in columns)) \
        .where(among_parameter(table.c.id, "ids")).order_by(table.c.id)


def claim(rows):
    """Lease the deliveries of these rows (as `due` read them) that are still free and in flight,
    in the caller's transaction, which commits it with their started attempts; returns their
    rows, with the status, attempts and last response that the claim found (another worker may
    have attempted one since it was read). The claim counts each delivery's attempt; one not
    attempted after all gives the count back. An attempt of theirs left without an outcome (its
    worker died) is marked interrupted."""
    if not rows:
        return []
    now = utcnow()
    read = {row.id: row for row in rows}
    claimed = db.session.execute(_claim(), {"ids": list(read), "now": now,
                                            "lease_end": _lease_end(now)}).all()
    row_type, pick = _merged(rows[0]._fields)
    claimed = sorted((row_type._make(pick((*read[row.id], *row))) for row in claimed),
                     key=lambda row: row.id)
    # Only a delivery attempted before can have an attempt left without its outcome.
    tried = [row.id for row in claimed if row.attempts > 1]
    if tried:
        attempts.interrupt(tried)
    with _lock:
        _leased.update(row.id for row in claimed)
    return claimed


@built_once
def _claim():
    table = Delivery.__table__
    return (sa.update(table).where(among_parameter(table.c.id, "ids"), *_free())
            .values(lease_until=sa.bindparam("lease_end"), attempts=table.c.attempts + 1)
            .returning(*(table.c[name] for name in CLAIMED)))


def _free():
    """In flight and not leased by a live worker at `:now`. The status is compared in an
    expression that no index serves, so that the rows are found by their ids: PostgreSQL's
    statistics lag behind a sudden backlog, and believing in-flight deliveries rare its planner
    would scan every one of them instead."""
    table = Delivery.__table__
    return (unindexed(table.c.status).in_(DeliveryStatus.in_flight_statuses()),
            Delivery.unleased(sa.bindparam("now")))


@lru_cache(maxsize=8)
def _merged(fields):
    """The type of a claimed delivery's row, the columns read (`fields`), some as the claim
    found them, and what picks its values from a row read followed by the claim's row."""
    names = tuple(dict.fromkeys((*fields, *CLAIMED)))
    positions = {**{name: i for i, name in enumerate(fields)},
                 **{name: len(fields) + i for i, name in enumerate(CLAIMED)}}
    return namedtuple("ClaimedDelivery", names), itemgetter(*(positions[name] for name in names))


def _next_due(now, limit):
    """The ids of up to `limit` due deliveries no live worker holds, those due first first: the
    first ones of each in-flight status in the order of ix_deliveries_due (a batch's worth read,
    not every due one sorted), merged. Rows another worker is taking are skipped, not waited
    for (PostgreSQL; SQLite writes one at a time). Picked first, then claimed if still free: as a
    subquery of the UPDATE, PostgreSQL may run a locking LIMIT more than once and take more."""
    due = []
    with in_index_order():
        for status in DeliveryStatus.in_flight_statuses():
            due += db.session.execute(_next_due_of(status), {"now": now, "limit": limit}).all()
    return [row.id for row in sorted(due)[:limit]]


@built_once
def _next_due_of(status):
    table = Delivery.__table__
    return (sa.select(table.c.next_attempt_at, table.c.id)
            .where(table.c.status == status, table.c.next_attempt_at <= sa.bindparam("now"),
                   Delivery.unleased(sa.bindparam("now")))
            .order_by(table.c.next_attempt_at, table.c.id).limit(sa.bindparam("limit"))
            .with_for_update(skip_locked=True))


def let_go(delivery_ids):
    """Stop renewing these deliveries' leases (their outcome cleared them, or they were
    released)."""
    with _lock:
        _leased.difference_update(delivery_ids)


def release(delivery_ids):
    """End the leases of deliveries left without an outcome, in the caller's transaction, so
    that the reconciler hands them out again at once."""
    let_go(delivery_ids)
    if delivery_ids:
        table = Delivery.__table__
        db.session.execute(sa.update(table)
                           .where(among(table.c.id, delivery_ids), table.c.lease_until.is_not(None))
                           .values(lease_until=utcnow()))


def renew():
    """Extend the running leases of the deliveries this process leases, in one UPDATE; returns
    how many."""
    with _lock:
        leased = list(_leased)
    if not leased:
        return 0
    now = utcnow()
    table = Delivery.__table__
    # Only leases still running: one that ended (outcome recorded, released) stays ended.
    renewed = db.session.execute(sa.update(table)
                                 .where(among(table.c.id, leased), table.c.lease_until > now)
                                 .values(lease_until=_lease_end(now))).rowcount
    db.session.commit()
    return renewed


def heartbeat(app, stop):
    """Renew this process's leases every third of a lease until `stop` is set; a failed beat
    (database away) waits for the next one."""
    interval = app.config["OPTINTEL_LEASE_SECONDS"] / 3
    while not stop.wait(interval):
        try:
            with app.app_context():
                renew()
        except Exception:  # noqa: BLE001 — the next beat tries again, before the lease runs out
            log_failure(log, "Renewing the leases failed; retrying in %s s", interval)
