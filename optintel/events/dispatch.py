"""Dispatching events: for now, marking them dispatched. Tracking rules hook in here."""
import logging

import sqlalchemy as sa

from ..extensions import db
from ..models import Event
from ..models.columns import utcnow

log = logging.getLogger(__name__)


def dispatch(event_ids):
    """Mark these events dispatched; returns how many were still waiting."""
    result = db.session.execute(
        sa.update(Event).where(Event.id.in_(event_ids), Event.dispatched_at.is_(None))
        .values(dispatched_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    log.info("Dispatched %d of %d event(s)", result.rowcount, len(event_ids))
    return result.rowcount
