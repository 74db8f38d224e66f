"""Dispatching events: one delivery per (active rule that matches, event), created once however
often the event is dispatched, then handed to the workers."""
import logging

import sqlalchemy as sa

from ..deliveries.queueing import enqueue_deliveries
from ..extensions import db
from ..models import Delivery, DeliveryStatus, Event
from ..models.columns import utcnow
from ..rules.index import current_index
from ..sql import insert_ignoring_duplicates

log = logging.getLogger(__name__)
CHUNK = 500


def dispatch(event_ids):
    """Create the deliveries of these events not dispatched yet; returns the new delivery ids."""
    events = db.session.scalars(sa.select(Event).where(Event.id.in_(event_ids),
                                                       Event.dispatched_at.is_(None))).all()
    if not events:
        db.session.rollback()
        return []
    index, now = current_index(), utcnow()
    rows = [{"event_id": event.id, "rule_id": rule_id, "action": action,
             "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
             "created_at": now, "updated_at": now}
            for event in events for rule_id, action in index.match(event)]
    table, created = Delivery.__table__, []
    for start in range(0, len(rows), CHUNK):
        stmt = insert_ignoring_duplicates(table).values(rows[start:start + CHUNK])
        created += db.session.scalars(stmt.returning(table.c.id)).all()
    db.session.execute(sa.update(Event.__table__)
                       .where(Event.__table__.c.id.in_([e.id for e in events]))
                       .values(dispatched_at=now))
    db.session.commit()
    log.info("Dispatched %d event(s) into %d delivery(ies)", len(events), len(created))
    enqueue_deliveries(created)
    return created
