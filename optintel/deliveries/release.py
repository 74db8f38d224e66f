"""Resuming a paused rule: it is active again, its count of failures starts again, and its held
deliveries go back to the workers oldest first, with a Rule Resumed event; enabling it (the
Tracking tab, the API) or a Test Run of it that succeeds does this. A rule deleted while paused
skips its held deliveries."""
from ..extensions import db
from ..meta_events import hand_off, rule_resumed
from ..models import Delivery, DeliveryStatus, RuleStatus
from ..models.columns import utcnow
from ..tracking_log import counts
from .queueing import enqueue_deliveries


def resume(rule, was, why):
    """Make the rule, whose status was `was`, active and release its held deliveries (`why`
    says who or what resumed it: "Enabled by ..."); commits. Returns how many were released."""
    now = utcnow()
    rule.status, rule.paused_at, rule.paused_reason = RuleStatus.ACTIVE, None, ""
    rule.consecutive_failures, rule.failing_since = 0, None
    db.session.flush()
    released = counts.change_status(
        [Delivery.__table__.c.rule_id == rule.id], [DeliveryStatus.HELD], DeliveryStatus.PENDING,
        next_attempt_at=now, lease_until=None, note=f"Released: the rule resumed. {why}."[:500])
    event_id = rule_resumed(rule, f"{why}.", now) if was == RuleStatus.PAUSED else None
    db.session.commit()
    # In id order, that is oldest first: one job a batch, the batches in that order.
    enqueue_deliveries(released)
    hand_off([event_id])
    return len(released)


def commit_change(rule, was, user):
    """Commit a change of the rule, whose status was `was`, by `user`: a rule that became
    active from paused or disabled resumes, its held deliveries released."""
    if was is not None and was != RuleStatus.ACTIVE and rule.is_active:
        resume(rule, was, f"Enabled by {user.email}")
    else:
        db.session.commit()


def delete_rule(rule):
    """Delete the rule, its held deliveries skipped; commits."""
    counts.change_status([Delivery.__table__.c.rule_id == rule.id], [DeliveryStatus.HELD],
                         DeliveryStatus.SKIPPED, note="The rule was deleted while paused.")
    db.session.delete(rule)
    db.session.commit()
