"""Dispatching events: one delivery per (active or paused rule that matches, event), created once
however often the event is dispatched, then handed to the workers; a paused rule's are held."""
import logging
from enum import Enum

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Delivery, DeliveryStatus, Event
from ..models.columns import utcnow
from ..rules.index import current_index
from ..sql import among_parameter, built_once, insert_rows
from ..tracking_log import counts
from .endpoint_health import HELD_NOTE
from .executor import execute
from .queueing import enqueue_deliveries

log = logging.getLogger(__name__)
# What a new delivery copies from its event, then from the rule that matched.
EVENT_COLUMNS = ("event_id", "trigger", "channel", "list_id", "mailer_id", "campaign_id",
                 "contact_md5")
RULE_COLUMNS = ("rule_id", "action", "level", "scope_id", "host")
EVENT_ID, RULE_ID = 0, len(EVENT_COLUMNS)
# A paused rule's new delivery: held until the rule resumes.
HELD = {"status": DeliveryStatus.HELD, "next_attempt_at": None, "note": HELD_NOTE}


def _pending(now, handed_out):
    """An active rule's new delivery: due at once, and marked handed out when it goes to the
    queue (enqueue_deliveries unmarks it should Redis not take it)."""
    return {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "note": "",
            "enqueued_at": now if handed_out else None}


def dispatch(event_ids, execute_here=False):
    """Create the deliveries of these events not dispatched yet and hand them to the workers or,
    when `execute_here` (as a dispatch job does), take other undispatched events too, as many as
    fill a batch (OPTINTEL_DELIVERY_BATCH) by the deliveries these events make, and attempt the
    deliveries at once when they fit one batch (and other due ones, up to the batch); returns the
    new delivery ids. Under a backlog a job then dispatches a batch's worth, not its own few
    events, and the jobs whose events it took end at once."""
    now, batch = utcnow(), current_app.config["OPTINTEL_DELIVERY_BATCH"]
    # Everything is read and matched before the first write: on SQLite a transaction holds the
    # writers' turn from that write to its commit.
    events = _undispatched(event_ids)
    if not events:
        db.session.rollback()
        return []
    index = current_index()
    rows = _rows(events, index)
    if execute_here and len(rows) < batch:
        room = (batch - len(rows)) * len(events) // max(len(rows), len(events))
        if room:
            others = _oldest_undispatched(room, {event.id for event in events})
            events += others
            rows += _rows(others, index)
    events, rows = _take(events, rows, now)
    if not events:
        db.session.rollback()
        return []
    # Handed to the queue, unless this job attempts them: they fit one batch.
    handing_out = not (execute_here and sum(not held for held, _ in rows) <= batch)
    created = _insert(rows, now, handing_out)
    counts.move([(dict(zip(("created_at", *EVENT_COLUMNS, *RULE_COLUMNS), (now, *values))), None,
                  status) for _, values, status in created])
    log.info("Dispatched %d event(s) into %d delivery(ies)", len(events), len(created))
    pending = [id_ for id_, _, status in created if status == DeliveryStatus.PENDING]
    if pending and not handing_out:
        # No second trip through the queue, and one commit: the deliveries with their claim
        # and started attempts. Should this job die first, the events are dispatched again
        # (outbox.hand_off_lost); after it, the reconciler hands the deliveries out.
        execute(pending, fill_batch=True)
    else:
        # Should this job die between the commit and the enqueue, the reconciler hands the
        # deliveries out again as work whose job was lost.
        db.session.commit()
        enqueue_deliveries(pending, marked=True)
    return [id_ for id_, _, _ in created]


def _undispatched(event_ids):
    """The rows of the undispatched events among `event_ids`, locked on PostgreSQL until this
    transaction ends (a dispatch of the same events waits, then finds them dispatched)."""
    return db.session.execute(_undispatched_among(), {"ids": list(event_ids)}).all()


@built_once
def _undispatched_among():
    events = Event.__table__
    return (sa.select(*events.c).where(among_parameter(events.c.id, "ids"),
                                       events.c.dispatched_at.is_(None))
            .with_for_update())


def _oldest_undispatched(limit, except_ids):
    """The rows of up to `limit` undispatched events oldest first, but for `except_ids`; those
    another worker is taking are skipped, not waited for (PostgreSQL; SQLite writes one at a
    time)."""
    return db.session.execute(_oldest_undispatched_but(),
                              {"except_ids": list(except_ids), "limit": limit}).all()


@built_once
def _oldest_undispatched_but():
    events = Event.__table__
    return (sa.select(*events.c).where(events.c.dispatched_at.is_(None),
                                       sa.not_(among_parameter(events.c.id, "except_ids")))
            .order_by(events.c.id).limit(sa.bindparam("limit")).with_for_update(skip_locked=True))


def _take(events, rows, now):
    """Mark the events dispatched, in this transaction; the events and delivery rows of those
    still undispatched. PostgreSQL's are locked already; on SQLite another dispatch may have
    taken some since they were read, and this one makes none of their deliveries."""
    taken = set(db.session.scalars(_mark_dispatched(),
                                   {"ids": [event.id for event in events], "now": now}))
    return ([event for event in events if event.id in taken],
            [(held, values) for held, values in rows if values[EVENT_ID] in taken])


@built_once
def _mark_dispatched():
    table = Event.__table__
    return (sa.update(table).where(among_parameter(table.c.id, "ids"),
                                   table.c.dispatched_at.is_(None))
            .values(dispatched_at=sa.bindparam("now")).returning(table.c.id))


def _rows(events, index):
    """(held, values of EVENT_COLUMNS and RULE_COLUMNS) of the deliveries of events: one per
    rule that matches an event."""
    rows = []
    for event in events:
        copied = tuple(_plain(value) for value in (
            event.id, event.trigger, event.channel, event.list_id, event.mailer_id,
            event.campaign_id, event.contact_md5))
        rows += [(match.held, copied + (match.rule_id, _plain(match.action), _plain(match.level),
                                        match.scope_id, match.host))
                 for match in index.match(event)]
    return rows


def _insert(rows, now, handed_out):
    """Insert the delivery rows that are not there yet (a delivery per rule and event), the
    pending ones marked `handed_out`; the (id, values, status) of those inserted, by id. The
    rows as they are, the values a status and the batch share converted once."""
    created = []
    for held, constants in ((False, _pending(now, handed_out)), (True, HELD)):
        by_key = {(values[RULE_ID], values[EVENT_ID]): values
                  for is_held, values in rows if is_held == held}
        if not by_key:
            continue
        inserted = insert_rows(Delivery.__table__,
                               {**constants, "attempts": 0, "created_at": now, "updated_at": now},
                               (*EVENT_COLUMNS, *RULE_COLUMNS), list(by_key.values()),
                               returning=("id", "rule_id", "event_id"), ignore_duplicates=True)
        created += [(id_, by_key[(rule_id, event_id)], constants["status"])
                    for id_, rule_id, event_id in inserted]
    return sorted(created)


def _plain(value):
    """An enum member as its value: the rows go to the driver as they are."""
    return value.value if isinstance(value, Enum) else value
