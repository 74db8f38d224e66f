"""Executing a batch of deliveries: HTTP and SMTP attempts concurrently over pooled
connections, list changes in the job's own session, and every attempt recorded."""
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from flask import current_app

from .. import actions
from ..actions.base import Outcome, Work
from ..actions.http import TargetPolicy
from ..events.values import values_for
from ..extensions import db
from ..models import Attempt, Delivery, DeliveryStatus, Event, ProjectSettings, TrackingRule
from ..models.columns import utcnow
from ..rules.editing import stored_settings
from . import counts
from .queueing import claim
from .retries import next_attempt_at

log = logging.getLogger(__name__)
_pool = {"executor": None}


def _thread_pool():
    if _pool["executor"] is None:
        _pool["executor"] = ThreadPoolExecutor(current_app.config["OPTINTEL_CONCURRENCY"],
                                               thread_name_prefix="delivery")
    return _pool["executor"]


def _timed(action, work):
    """Run one attempt, timing it; an unexpected error is a failed attempt, not a lost one."""
    started, started_at = time.perf_counter(), utcnow()
    try:
        outcome = action.execute(work)
    except Exception as exc:  # noqa: BLE001 — bookkeeping must finish whatever the action does
        log.exception("Delivery %s: the action raised", work.delivery_id)
        outcome = Outcome(False, error=f"Internal error: {type(exc).__name__}: {exc}")
    outcome.started_at = started_at
    outcome.duration_ms = int((time.perf_counter() - started) * 1000)
    return outcome


def _prepared(action, rule):
    """The rule's complete settings, or a permanent failed Outcome when they cannot be read
    (e.g. secrets encrypted with another key)."""
    try:
        return action.prepare(stored_settings(rule))
    except Exception as exc:  # noqa: BLE001 — one unreadable rule must not stop the batch
        log.exception("Rule %s: cannot read its settings", rule.id)
        return Outcome(False, permanent=True, error=f"Cannot read the rule's settings: {exc}")


def execute(delivery_ids):
    """Attempt the due deliveries among these ids; returns how many were attempted."""
    ids = claim(delivery_ids)
    if not ids:
        return 0
    deliveries = db.session.scalars(sa.select(Delivery).where(Delivery.id.in_(ids))).all()
    events = {row["id"]: row for row in db.session.execute(
        sa.select(Event.__table__).where(Event.id.in_({d.event_id for d in deliveries})))
        .mappings()}
    rules = {r.id: r for r in db.session.scalars(sa.select(TrackingRule).where(
        TrackingRule.id.in_({d.rule_id for d in deliveries if d.rule_id})))}
    values = values_for(list(events.values()))
    project = ProjectSettings.get()
    policy = TargetPolicy.from_settings(current_app.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"],
                                        project.allowed_target_cidrs)
    settings, jobs, skipped, outcomes = {}, [], [], []
    for delivery in deliveries:
        rule = rules.get(delivery.rule_id)
        if rule is None or not rule.is_active:
            skipped.append((delivery, "The rule was deleted before it ran." if rule is None
                            else "The rule was disabled before it ran."))
            continue
        action = actions.get(rule.action)
        if rule.id not in settings:
            settings[rule.id] = _prepared(action, rule)
        if isinstance(settings[rule.id], Outcome):
            outcomes.append((delivery, settings[rule.id]))
            continue
        work = Work(delivery.id, rule.id, settings[rule.id],
                    {**values[delivery.event_id], "rule_id": str(rule.id)},
                    dict(events[delivery.event_id]), policy)
        jobs.append((delivery, action, work))
    futures = [(d, _thread_pool().submit(_timed, a, w)) for d, a, w in jobs if a.in_pool]
    outcomes += [(d, _timed(a, w)) for d, a, w in jobs if not a.in_pool]
    outcomes += [(d, future.result()) for d, future in futures]
    _record(outcomes, skipped, project.retry_delays)
    return len(outcomes)


def _record(outcomes, skipped, delays):
    """Write the attempts and the deliveries' new state in one transaction."""
    now = utcnow()
    attempts, changes, by_id = [], [], {}
    for delivery, outcome in outcomes:
        by_id[delivery.id] = delivery
        number = delivery.attempts + 1
        attempts.append({
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
            retry_at = None if outcome.permanent else \
                next_attempt_at(number, delays, outcome.retry_after, now)
            change.update(status=DeliveryStatus.RETRYING if retry_at else DeliveryStatus.FAILED,
                          next_attempt_at=retry_at)
        changes.append(change)
    for delivery, note in skipped:
        by_id[delivery.id] = delivery
        changes.append({"id": delivery.id, "status": DeliveryStatus.SKIPPED, "note": note,
                        "lease_until": None, "next_attempt_at": None, "updated_at": now,
                        "attempts": delivery.attempts,
                        "last_response_status": delivery.last_response_status})
    if attempts:
        db.session.execute(sa.insert(Attempt.__table__), attempts)
    if changes:
        counts.move([(by_id[c["id"]], by_id[c["id"]].status, c["status"]) for c in changes])
        db.session.execute(sa.update(Delivery), changes)
    db.session.commit()
