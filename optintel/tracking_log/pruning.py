"""Pruning the Tracking Log after the retention period of Project Settings. Events stay: they
are the record of the opt-out lists themselves."""
import logging
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Delivery, DeliveryCount, DeliveryStatus, LogAccess, ProjectSettings, TestRun
from ..models.columns import utcnow

log = logging.getLogger(__name__)
BATCH = 5000


def prune():
    """Delete log rows older than the retention period, in batches; returns how many."""
    cutoff = utcnow() - timedelta(days=ProjectSettings.get().log_retention_days)
    # Deliveries in flight or held (their rule is paused) are kept whatever their age.
    removed, settled = 0, Delivery.status.not_in(DeliveryStatus.unsettled_statuses())
    for model, moment, extra in ((Delivery, Delivery.created_at, settled),
                                 (TestRun, TestRun.created_at, sa.true()),
                                 (LogAccess, LogAccess.accessed_at, sa.true()),
                                 (DeliveryCount, DeliveryCount.hour, sa.true())):
        while True:
            ids = db.session.scalars(sa.select(model.id).where(moment < cutoff, extra)
                                     .limit(BATCH)).all()
            if not ids:
                break
            # Attempts go with their delivery (ON DELETE CASCADE).
            db.session.execute(sa.delete(model).where(model.id.in_(ids)))
            db.session.commit()
            removed += len(ids)
    if removed:
        log.info("Pruned %d Tracking Log row(s) older than %s", removed, cutoff.date())
    return removed
