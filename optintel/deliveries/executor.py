"""Executing a batch of deliveries: a worker claims the due ones, runs their attempts (HTTP and
SMTP concurrently over pooled connections, list changes in the job's own session), and hands
the outcomes to attempts.record."""
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import actions
from ..actions.base import Outcome, Work
from ..actions.target_policy import project_policy
from ..extensions import db
from ..models import Delivery, DeliveryStatus, Event, ProjectSettings, TrackingRule
from ..models.columns import utcnow
from ..placeholders import values_for
from ..rules.storage import stored_settings
from ..server_log import log_failure
from . import attempts, circuit_breaker, endpoint_health

log = logging.getLogger(__name__)
_pool = {"executor": None}


def _thread_pool():
    if _pool["executor"] is None:
        _pool["executor"] = ThreadPoolExecutor(current_app.config["OPTINTEL_CONCURRENCY"],
                                               thread_name_prefix="delivery")
    return _pool["executor"]


def claim(delivery_ids):
    """Take the deliveries that are due and not held by another worker; returns their ids."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["OPTINTEL_LEASE_SECONDS"])
    table = Delivery.__table__
    stmt = (sa.update(table)
            .where(table.c.id.in_(delivery_ids),
                   table.c.status.in_(DeliveryStatus.in_flight_statuses()),
                   table.c.next_attempt_at <= now + timedelta(seconds=1),
                   sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now))
            .values(lease_until=lease).returning(table.c.id))
    claimed = db.session.scalars(stmt).all()
    db.session.commit()
    return claimed


def timed_attempt(attempt, work):
    """Run one attempt (an action's execute, or its test), timing it; an unexpected error is a
    failed attempt, not a lost one."""
    started, started_at = time.perf_counter(), utcnow()
    try:
        outcome = attempt(work)
    except Exception as exc:  # noqa: BLE001 — bookkeeping must finish whatever the action does
        log_failure(log, "Delivery %s: the action raised", work.delivery_id)
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
        log_failure(log, "Rule %s: cannot read its settings", rule.id)
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
    policy = project_policy()
    settings, jobs, skipped, outcomes, held = {}, [], [], [], []
    for delivery in deliveries:
        rule = rules.get(delivery.rule_id)
        if rule is not None and rule.is_paused:  # endpoint health: held until it resumes
            held.append(delivery)
            continue
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
    # The circuit breaker: deliveries to a host that keeps failing wait, not attempted.
    jobs, waiting = circuit_breaker.admit(jobs)
    pool = _thread_pool()
    futures = [(d, pool.submit(timed_attempt, a.execute, w)) for d, a, w in jobs if a.in_pool]
    outcomes += [(d, timed_attempt(a.execute, w)) for d, a, w in jobs if not a.in_pool]
    outcomes += [(d, future.result()) for d, future in futures]
    circuit_breaker.observe(outcomes)
    # In the transaction that attempts.record commits.
    circuit_breaker.postpone(waiting)
    endpoint_health.hold_claimed(held)
    attempts.record(outcomes, skipped, ProjectSettings.get().retry_delays)
    return len(outcomes)
