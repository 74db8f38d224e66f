"""Recording the attempts of a batch: each attempt as started before it is sent, then with its
outcome and each delivery's next state (succeeded, retrying on the schedule, failed, or skipped)
in one transaction with the log's counts; a started attempt whose worker stopped is interrupted."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Attempt, AttemptState, Delivery, DeliveryStatus
from ..models.columns import utcnow
from ..sql import among, insert_rows, update_by_id
from ..tracking_log import counts
from . import endpoint_health
from .retries import after_failure

INTERRUPTED = "The worker stopped during this attempt."
# A started attempt, before its outcome (every column the INSERT would otherwise default).
NOT_YET = {"state": AttemptState.STARTED, "duration_ms": 0, "succeeded": False, "request": {},
           "response_status": None, "response_headers": {}, "response_body": "", "error": ""}


def start(deliveries):
    """Record an attempt of each claimed delivery (counted by its claim) as started, and commit
    the caller's transaction (the batch's claim with them) before anything is sent; returns
    {delivery id: (attempt id, number)}."""
    if not deliveries:
        db.session.commit()
        return {}
    numbers = {d.id: d.attempts for d in deliveries}
    # A batch holds a delivery once: its attempt is known by the delivery's id.
    started = insert_rows(Attempt.__table__, {**NOT_YET, "started_at": utcnow()},
                          ("delivery_id", "number"), list(numbers.items()),
                          returning=("id", "delivery_id"))
    db.session.commit()
    return {delivery_id: (attempt_id, numbers[delivery_id]) for attempt_id, delivery_id in started}


def interrupt(delivery_ids):
    """Mark interrupted the attempts of these deliveries that never got their outcome, in the
    caller's transaction: their worker stopped while they were sent."""
    table = Attempt.__table__
    db.session.execute(sa.update(table)
                       .where(among(table.c.delivery_id, delivery_ids),
                              table.c.state == AttemptState.STARTED)
                       .values(state=AttemptState.INTERRUPTED, error=INTERRUPTED))


def withdraw(started, delivery_ids):
    """Remove the started attempts of these deliveries (`started` as start returned it), never
    sent after all, and give back their count, in the caller's transaction."""
    if not delivery_ids:
        return
    attempts, deliveries = Attempt.__table__, Delivery.__table__
    db.session.execute(sa.delete(attempts).where(
        among(attempts.c.id, [started[d][0] for d in delivery_ids])))
    db.session.execute(sa.update(deliveries).where(among(deliveries.c.id, delivery_ids))
                       .values(attempts=deliveries.c.attempts - 1))


def record(outcomes, skipped, delays, started, events, thresholds):
    """Complete the started attempts (`started` as start returned it) of (delivery, Outcome)
    pairs with their outcome, set the deliveries' new state, and mark the (delivery, reason)
    pairs skipped (giving back the count of their claim), in one transaction; the attempts
    count against their rules (endpoint_health, given the batch's {event id: event row} and
    pausing Thresholds)."""
    now = utcnow()
    rows, changes, by_id = [], [], {}
    for delivery, outcome in outcomes:
        by_id[delivery.id] = delivery
        attempt_id, number = started[delivery.id]
        rows.append({
            "id": attempt_id, "state": AttemptState.COMPLETED,
            "started_at": outcome.started_at or now,
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
                        "attempts": delivery.attempts - 1,
                        "last_response_status": delivery.last_response_status})
    update_by_id(Attempt.__table__, rows)
    # Endpoint health: count the attempts against their rules; a paused rule's are held.
    health = endpoint_health.track(outcomes, changes, events, thresholds, now)
    if changes:
        counts.move([(by_id[c["id"]], by_id[c["id"]].status, c["status"]) for c in changes])
        update_by_id(Delivery.__table__, changes)
    db.session.commit()
    health.after_commit()
