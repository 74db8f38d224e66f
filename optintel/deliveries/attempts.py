"""Recording the attempts of a batch: each attempt as it was made, and each delivery's next
state (succeeded, retrying on the schedule, failed, or skipped), in one transaction with the
log's counts."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Attempt, Delivery, DeliveryStatus
from ..models.columns import utcnow
from ..tracking_log import counts
from . import endpoint_health
from .retries import after_failure


def record(outcomes, skipped, delays):
    """Write the attempts of (delivery, Outcome) pairs and the deliveries' new state, and mark
    the (delivery, reason) pairs skipped, in one transaction."""
    now = utcnow()
    rows, changes, by_id = [], [], {}
    for delivery, outcome in outcomes:
        by_id[delivery.id] = delivery
        number = delivery.attempts + 1
        rows.append({
            "delivery_id": delivery.id, "number": number, "started_at": outcome.started_at or now,
            "duration_ms": outcome.duration_ms, "succeeded": outcome.succeeded,
            "request": outcome.request, "response_status": outcome.response_status,
            "response_headers": outcome.response_headers, "response_body": outcome.response_body,
            "error": outcome.error})
        change = {"id": delivery.id, "attempts": number, "lease_until": None,
                  "last_response_status": outcome.response_status, "note": "",
                  "next_attempt_at": None, "updated_at": now}
        if outcome.succeeded:
            change["status"] = DeliveryStatus.SUCCEEDED
        elif outcome.skipped:
            change.update(status=DeliveryStatus.SKIPPED, note=outcome.error[:500])
        else:
            change["status"], change["next_attempt_at"] = after_failure(number, outcome, delays,
                                                                        now)
        changes.append(change)
    for delivery, note in skipped:
        by_id[delivery.id] = delivery
        changes.append({"id": delivery.id, "status": DeliveryStatus.SKIPPED, "note": note,
                        "lease_until": None, "next_attempt_at": None, "updated_at": now,
                        "attempts": delivery.attempts,
                        "last_response_status": delivery.last_response_status})
    if rows:
        db.session.execute(sa.insert(Attempt.__table__), rows)
    # Endpoint health: count the attempts against their rules; a paused rule's are held.
    health = endpoint_health.track(outcomes, changes, now)
    if changes:
        counts.move([(by_id[c["id"]], by_id[c["id"]].status, c["status"]) for c in changes])
        db.session.execute(sa.update(Delivery), changes)
    db.session.commit()
    health.after_commit()
