"""Executing a batch of deliveries: a worker claims the due ones, records their attempts as
started, runs them (HTTP on the process's sending loop and SMTP in a thread pool, concurrently
over pooled connections; list changes in the job's own session), and hands the outcomes to
attempts.record. Told to stop, it sends nothing more and gives the attempts under way a short
grace before releasing their deliveries."""
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial

import sqlalchemy as sa
from flask import current_app

from .. import actions
from ..actions import sending_loop
from ..actions.base import Outcome, Work
from ..actions.target_policy import project_policy
from ..extensions import db
from ..models import Event, ProjectSettings, RuleStatus, TrackingRule
from ..models.columns import utcnow
from ..placeholders import values_for
from ..server_log import log_failure
from ..sql import among_parameter, built_once
from . import attempts, circuit_breaker, endpoint_health, leases, rule_settings

log = logging.getLogger(__name__)
# What the batch reads of its deliveries and their rules (rows, not ORM objects): what the
# attempts, the breakers, endpoint health and the log's counts need.
DELIVERY_COLUMNS = ("id", "event_id", "rule_id", "action", "level", "scope_id", "trigger",
                    "host", "status", "attempts", "last_response_status", "created_at")
RULE_COLUMNS = ("id", "action", "status", "action_settings", "secret_settings", "updated_at")
_pool = {"executor": None}
# Set when this process is told to stop; the attempts it then left running, unrecorded.
_stopping = threading.Event()
_left_running = []


def _thread_pool():
    if _pool["executor"] is None:
        _pool["executor"] = ThreadPoolExecutor(current_app.config["OPTINTEL_CONCURRENCY"],
                                               thread_name_prefix="delivery")
    return _pool["executor"]


def stop():
    """Tell this process's batches to stop: nothing more is sent, and the attempts under way
    have OPTINTEL_SHUTDOWN_GRACE_SECONDS to finish."""
    _stopping.set()


def left_running():
    """How many attempts this process left running when it stopped (their deliveries released)."""
    return sum(not future.done() for future in _left_running)


def timed_attempt(attempt, work):
    """Run one attempt (an action's execute, or its test), timing it; an unexpected error is a
    failed attempt, not a lost one."""
    started, started_at = time.perf_counter(), utcnow()
    try:
        outcome = attempt(work)
    except Exception as exc:  # noqa: BLE001 — bookkeeping must finish whatever the action does
        outcome = _raised(work, exc)
    return _timed(outcome, started, started_at)


async def timed_attempt_async(attempt, work):
    """timed_attempt of an action's execute_async, on the sending loop."""
    started, started_at = time.perf_counter(), utcnow()
    try:
        outcome = await attempt(work)
    except Exception as exc:  # noqa: BLE001 — bookkeeping must finish whatever the action does
        outcome = _raised(work, exc)
    return _timed(outcome, started, started_at)


def _raised(work, exc):
    log_failure(log, "Delivery %s: the action raised", work.delivery_id)
    return Outcome(False, error=f"Internal error: {type(exc).__name__}: {exc}")


def _timed(outcome, started, started_at):
    outcome.started_at = started_at
    outcome.duration_ms = int((time.perf_counter() - started) * 1000)
    return outcome


def _prepared(rule):
    """The rule's complete settings, or a permanent failed Outcome when they cannot be read
    (e.g. secrets encrypted with another key)."""
    try:
        return rule_settings.prepared(rule)
    except Exception as exc:  # noqa: BLE001 — one unreadable rule must not stop the batch
        log_failure(log, "Rule %s: cannot read its settings", rule.id)
        return Outcome(False, permanent=True, error=f"Cannot read the rule's settings: {exc}")


def _submitted(jobs, pausing):
    """(future, delivery) pairs of the jobs that run beside this thread: HTTP on the sending
    loop, the other actions that may in the thread pool (SMTP, over its own connections). When
    `pausing`, a rule whose target answers 410 Gone sends none of its attempts not begun yet."""
    on_loop = [(d, a, w) for d, a, w in jobs if a.on_sending_loop]
    futures = list(zip(sending_loop.submit(
        current_app.config["OPTINTEL_CONCURRENCY"],
        [(timed_attempt_async, (a.execute_async, w)) for _, a, w in on_loop]),
        [d for d, _, _ in on_loop]))
    if pausing:
        _cancel_when_gone(futures)
    return futures + [(_thread_pool().submit(timed_attempt, a.execute, w), d)
                      for d, a, w in jobs if a.in_pool and not a.on_sending_loop]


def _cancel_when_gone(futures):
    """When an attempt of these (future, delivery) pairs is answered 410 Gone, cancel the
    attempts of its rule that wait for their turn: the pause that the answer brings holds them.
    Run as the answer is recorded, on the sending loop."""
    by_rule = {}
    for future, delivery in futures:
        by_rule.setdefault(delivery.rule_id, []).append(future)

    def on_answer(rule_futures, done):
        if not done.cancelled() and done.exception() is None and \
                done.result().response_status == endpoint_health.GONE:
            for future in rule_futures:
                future.cancel()
    for future, delivery in futures:
        future.add_done_callback(partial(on_answer, by_rule[delivery.rule_id]))


def _settle(futures, grace):
    """(outcomes, unsent, unfinished) of the (future, delivery) pairs run in the pool: every
    outcome, but for the attempts cancelled before they began (unsent); when this process is
    told to stop, all those not begun are cancelled and those still running after `grace`
    seconds are left (unfinished)."""
    pending, outcomes, unsent, deadline = dict(futures), [], [], None
    try:
        while pending:
            if deadline is None and _stopping.is_set():
                unsent += [pending.pop(future) for future in list(pending) if future.cancel()]
                deadline = time.monotonic() + grace
            timeout = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
            finished, _ = wait(pending, timeout=timeout)
            for future in finished:
                delivery = pending.pop(future)
                if future.cancelled():
                    unsent.append(delivery)
                else:
                    outcomes.append((delivery, future.result()))
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        # Also when the wait ends early (a cold shutdown): the process does not wait for them.
        _left_running.extend(pending)
    return outcomes, unsent, list(pending.values())


def execute(delivery_ids, fill_batch=False):
    """Attempt the due deliveries among these ids and, when `fill_batch` (as a job does), other
    due ones up to a batch (OPTINTEL_DELIVERY_BATCH) in all; returns how many were attempted.
    The caller's transaction is committed with the batch's claim."""
    due = leases.due(delivery_ids,
                     current_app.config["OPTINTEL_DELIVERY_BATCH"] if fill_batch else 0,
                     DELIVERY_COLUMNS)
    # Everything the batch reads, before the claim's first write: on SQLite the claim holds the
    # writers' turn from it to the commit.
    batch = _Batch.read(due) if due else None
    deliveries = leases.claim(due)
    if not deliveries:
        db.session.commit()
        return 0
    try:
        return _attempt(deliveries, batch)
    except BaseException:
        # Not committed yet, the claim goes with it; committed, the leases run out.
        db.session.rollback()
        raise
    finally:
        leases.let_go([d.id for d in deliveries])


class _Batch:
    """What a batch reads besides its deliveries: their events (plain dicts, read by every
    delivery of the event, with their placeholder values) and rules (rows), and the project's
    target policy, retry delays and pausing thresholds."""

    def __init__(self, events, values, rules, project):
        self.events, self.values, self.rules = events, values, rules
        self.policy = project_policy(project.allowed_target_cidrs)
        self.delays = project.retry_delays
        self.thresholds = endpoint_health.Thresholds.of(project)

    @classmethod
    def read(cls, deliveries):
        # Plain dicts: a row mapping builds its keys anew at each read.
        event_rows = {row["id"]: dict(row) for row in db.session.execute(
            _events_among(), {"ids": list({d.event_id for d in deliveries})}).mappings()}
        rule_rows = {row.id: row for row in db.session.execute(
            _rules_among(), {"ids": list({d.rule_id for d in deliveries if d.rule_id})})}
        return cls(event_rows, values_for(list(event_rows.values())), rule_rows,
                   ProjectSettings.get())


@built_once
def _events_among():
    events = Event.__table__
    return sa.select(events).where(among_parameter(events.c.id, "ids"))


@built_once
def _rules_among():
    rules = TrackingRule.__table__
    return sa.select(*(rules.c[name] for name in RULE_COLUMNS)) \
        .where(among_parameter(rules.c.id, "ids"))


def _attempt(deliveries, batch):
    events, rules, values, policy = batch.events, batch.rules, batch.values, batch.policy
    settings, jobs, skipped, outcomes, held = {}, [], [], [], []
    for delivery in deliveries:
        rule = rules.get(delivery.rule_id)
        if rule is not None and rule.status == RuleStatus.PAUSED:  # held until it resumes
            held.append(delivery)
            continue
        if rule is None or rule.status != RuleStatus.ACTIVE:
            skipped.append((delivery, "The rule was deleted before it ran." if rule is None
                            else "The rule was disabled before it ran."))
            continue
        if rule.id not in settings:
            settings[rule.id] = _prepared(rule)
        if isinstance(settings[rule.id], Outcome):
            outcomes.append((delivery, settings[rule.id]))
            continue
        work = Work(delivery.id, rule.id, settings[rule.id],
                    {**values[delivery.event_id], "rule_id": str(rule.id)},
                    events[delivery.event_id], policy)
        jobs.append((delivery, actions.get(rule.action), work))
    # The circuit breaker: deliveries to a host that keeps failing wait, not attempted.
    jobs, waiting = circuit_breaker.admit(jobs)
    started = attempts.start([d for d, _ in outcomes] + [d for d, _, _ in jobs])
    futures = _submitted(jobs, batch.thresholds.pausing)
    outcomes += [(d, timed_attempt(a.execute, w)) for d, a, w in jobs
                 if not (a.on_sending_loop or a.in_pool)]
    grace = current_app.config["OPTINTEL_SHUTDOWN_GRACE_SECONDS"]
    done, unsent, unfinished = _settle(futures, grace)
    outcomes += done
    if unsent or unfinished:
        # Not sent: the process stops, or their rule's target answered 410 Gone in this batch
        # (the pause recorded with the outcomes holds them; should a success keep the rule
        # active, they are taken again).
        log.info("%d attempt(s) not sent and %d unfinished; their deliveries are released",
                 len(unsent), len(unfinished))
        attempts.withdraw(started, [d.id for d in unsent])
        leases.release([d.id for d in unsent + unfinished])
    circuit_breaker.observe(outcomes)
    # In the transaction that attempts.record commits.
    circuit_breaker.postpone(waiting)
    endpoint_health.hold_claimed(held)
    attempts.record(outcomes, skipped, batch.delays, started, events, batch.thresholds)
    return len(outcomes)
