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
# With this many jobs waiting, work that looks lost is more likely just queued, and the jobs
# take what is due.
BACKLOG = 50


def reconcile():
    """Re-enqueue the due deliveries that have no live job; returns how many. Work handed out
    looks lost after OPTINTEL_REQUEUE_AFTER_SECONDS while a few jobs wait, and after a tick when
    none does (a job taken since then leased its deliveries). Behind a backlog nothing is read:
    each job that waits takes other due deliveries, earliest due first, beside those it was
    given."""
    waiting = queue(DELIVERIES_QUEUE).count
    if waiting >= BACKLOG:
        return 0
    now, config = utcnow(), current_app.config
    if waiting == 0:
        lost_before = now - timedelta(seconds=config["OPTINTEL_RECONCILE_SECONDS"])
    else:
        lost_before = now - timedelta(seconds=config["OPTINTEL_REQUEUE_AFTER_SECONDS"])
    deliveries = db.session.scalars(due_query(now, lost_before)).all()
    db.session.rollback()
    enqueue_deliveries(deliveries)
    if deliveries:
        log.info("Reconciler handed out %d delivery(ies)", len(deliveries))
    return len(deliveries)
