"""The database holds the truth, Redis only carries work: this hands out again the deliveries
whose job Redis lost (after an outage, a flush, or a worker killed mid-batch) and the retries
that fell due."""
import logging
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models.columns import utcnow
from ..queue import DELIVERIES_QUEUE, queue
from .queueing import enqueue_deliveries
from .retries import due_query

log = logging.getLogger(__name__)
# With more jobs than this waiting, work that looks lost is more likely just queued.
BACKLOG = 50


def reconcile():
    """Re-enqueue the due deliveries that have no live job; returns how many."""
    now = utcnow()
    lost_before = None
    if queue(DELIVERIES_QUEUE).count < BACKLOG:
        lost_before = now - timedelta(seconds=current_app.config["OPTINTEL_REQUEUE_AFTER_SECONDS"])
    deliveries = db.session.scalars(due_query(now, lost_before)).all()
    db.session.rollback()
    enqueue_deliveries(deliveries)
    if deliveries:
        log.info("Reconciler handed out %d delivery(ies)", len(deliveries))
    return len(deliveries)
