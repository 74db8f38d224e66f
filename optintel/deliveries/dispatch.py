"""Dispatching events: one delivery per (active or paused rule that matches, event), created once
however often the event is dispatched, then handed to the workers; a paused rule's are held."""
import logging

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Delivery, DeliveryStatus, Event
from ..models.columns import utcnow
from ..rules.index import current_index
from ..sql import insert_ignoring_duplicates
from ..tracking_log import counts
from .endpoint_health import HELD_NOTE
from .executor import execute
from .queueing import enqueue_deliveries

log = logging.getLogger(__name__)
# A paused rule's new delivery: held until the rule resumes.
HELD = {"status": DeliveryStatus.HELD, "next_attempt_at": None, "note": HELD_NOTE}


def _pending(now):
    """An active rule's new delivery: due at once."""
    return {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "note": ""}


def dispatch(event_ids, execute_here=False):
    """Create the deliveries of these events not dispatched yet and hand them to the workers or,
    when `execute_here` (as a dispatch job does), take other undispatched events too, as many as
    fill a batch (OPTINTEL_DELIVERY_BATCH) by the deliveries these events make, and attempt the
    deliveries at once when they fit one batch (and other due ones, up to the batch); returns the
    new delivery ids. Under a backlog a job then dispatches a batch's worth, not its own few
    events, and the jobs whose events it took end at once."""
    now, batch = utcnow(), current_app.config["OPTINTEL_DELIVERY_BATCH"]
    events = _take(Event.__table__.c.id.in_(event_ids), now)
    if not events:
        db.session.rollback()
        return []
    index = current_index()
    rows = _rows(events, index, now)
    if execute_here and len(rows) < batch:
        room = (batch - len(rows)) * len(events) // max(len(rows), len(events))
        if room:
            others = _take(Event.__table__.c.id.in_(_oldest_undispatched(room)), now)
            events += others
            rows += _rows(others, index, now)
    table = Delivery.__table__
    if rows:
        # Without RETURNING: the driver's own executemany, not one statement compiled per page.
        db.session.execute(insert_ignoring_duplicates(table), rows)
    # The deliveries of events this transaction took are the ones it created.
    created = db.session.execute(sa.select(table.c.id, table.c.rule_id, table.c.event_id)
                                 .where(table.c.event_id.in_([e.id for e in events]),
                                        table.c.created_at == now)
                                 .order_by(table.c.id)).all() if rows else []
    by_key = {(r["rule_id"], r["event_id"]): r for r in rows}
    counts.move([(by_key[(rule_id, event_id)], None, by_key[(rule_id, event_id)]["status"])
                 for _, rule_id, event_id in created])
    log.info("Dispatched %d event(s) into %d delivery(ies)", len(events), len(created))
    pending = [row.id for row in created
               if by_key[(row.rule_id, row.event_id)]["status"] == DeliveryStatus.PENDING]
    if execute_here and 0 < len(pending) <= batch:
        # No second trip through the queue, and one commit: the deliveries with their claim
        # and started attempts. Should this job die first, the events are dispatched again
        # (outbox.hand_off_lost); after it, the reconciler hands the deliveries out.
        execute(pending, fill_batch=True)
    else:
        db.session.commit()
        enqueue_deliveries(pending)
    return [row.id for row in created]


def _take(which, now):
    """Mark the undispatched events among `which` dispatched, in this transaction (a dispatch of
    the same events at the same time gets none); their rows."""
    events = Event.__table__
    return db.session.execute(
        sa.update(events).where(which, events.c.dispatched_at.is_(None))
        .values(dispatched_at=now).returning(*events.c)).all()


def _oldest_undispatched(limit):
    """The ids of up to `limit` undispatched events, oldest first; those another worker is
    taking are skipped, not waited for (PostgreSQL; SQLite writes one at a time)."""
    events = Event.__table__
    return db.session.scalars(
        sa.select(events.c.id).where(events.c.dispatched_at.is_(None)).order_by(events.c.id)
        .limit(limit).with_for_update(skip_locked=True)).all()


def _rows(events, index, now):
    """The delivery rows of events: one per rule that matches an event."""
    rows = []
    for event in events:
        copied = {"event_id": event.id, "trigger": event.trigger, "channel": event.channel,
                  "list_id": event.list_id, "mailer_id": event.mailer_id,
                  "campaign_id": event.campaign_id, "contact_md5": event.contact_md5}
        # Every row has the same keys: they are the parameters of one executemany.
        rows += [{**copied, "rule_id": match.rule_id, "action": match.action,
                  "level": match.level, "scope_id": match.scope_id, "host": match.host,
                  "attempts": 0, "created_at": now, "updated_at": now,
                  **(HELD if match.held else _pending(now))} for match in index.match(event)]
    return rows
