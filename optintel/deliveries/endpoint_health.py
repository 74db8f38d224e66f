"""Endpoint health: each rule counts its failed attempts in a row (any attempt of any of its
deliveries; a success starts the count again), since when, and what its target said last. A rule
that failed every attempt for the window of Project Settings and at least their number of times,
or whose target answered 410 Gone, is paused: its deliveries are held (not attempted, not lost,
not pruned) until it resumes (release.py), its author and the notification recipients are
emailed (pause_notices.py), and a Rule Paused event is recorded; a delivery failing for good
records a Delivery Failed event (meta_events.py)."""
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from .. import meta_events
from ..extensions import db
from ..models import Delivery, DeliveryStatus, RuleStatus, TrackingRule
from ..models.columns import UTCDateTime
from ..rules.index import rules_changed
from ..sql import among, among_parameter, built_once
from ..tracking_log import counts
from ..tracking_log.masking import mask_within
from . import pause_notices

GONE = 410
HELD_NOTE = "Held: the rule is paused."
ERROR_LENGTH = 300


@dataclass(frozen=True)
class Thresholds:
    """When Project Settings pause a failing rule, as a batch read them before its attempts."""

    pausing: bool
    failures: int
    seconds: int

    @classmethod
    def of(cls, settings):
        """The thresholds of a ProjectSettings row."""
        return cls(settings.pausing, settings.pause_after_failures, settings.pause_after_seconds)


@dataclass
class Run:
    """What a batch's attempts say of one rule: the failures after its last success."""

    reset: bool = False  # a success came: the count starts again
    failures: int = 0
    since: object = None
    gone: bool = False
    last: tuple | None = None  # (delivery, Outcome) of the last failure


@dataclass
class Aftermath:
    """What is left to do once the batch's transaction is committed."""

    paused: list = field(default_factory=list)  # rule ids
    events: list = field(default_factory=list)  # meta event ids

    def after_commit(self):
        """Hand the meta events to the dispatcher, then email about the paused rules."""
        meta_events.hand_off(self.events)
        pause_notices.tell(self.paused)


def describe(outcome, event):
    """What the target said when an attempt failed, in a line with the event's contact masked:
    its status and the start of its answer, or why no answer came."""
    if outcome.response_status is not None:
        text = f"{outcome.response_status} {' '.join(outcome.response_body.split())}"
    else:
        text = outcome.error
    if event is not None:
        text = mask_within(text, event["contact"], event["contact_md5"])
    return text.strip()[:ERROR_LENGTH]


def _runs(outcomes):
    runs = {}
    for delivery, outcome in sorted(outcomes, key=lambda pair: (pair[1].started_at is None,
                                                                pair[1].started_at)):
        if delivery.rule_id is None or outcome.skipped:
            continue
        run = runs.setdefault(delivery.rule_id, Run())
        if outcome.succeeded:
            run.reset, run.failures, run.since, run.gone, run.last = True, 0, None, False, None
        else:
            run.failures += 1
            run.since = run.since or outcome.started_at
            run.gone = run.gone or outcome.response_status == GONE
            run.last = (delivery, outcome)
    return runs


def _count(rule_id, run, events):
    """Add the run to the rule's count; returns (status, failures in a row, since) or None."""
    table = TrackingRule.__table__
    # Counting is not editing: "updated at" stays.
    values, where = {"updated_at": table.c.updated_at}, [table.c.id == rule_id]
    if run.reset:
        values.update(consecutive_failures=run.failures, failing_since=run.since)
        if not run.failures:
            where.append(sa.or_(table.c.consecutive_failures != 0,
                                table.c.failing_since.is_not(None)))
    else:
        values.update(consecutive_failures=table.c.consecutive_failures + run.failures,
                      failing_since=sa.func.coalesce(table.c.failing_since,
                                                     sa.literal(run.since, UTCDateTime())))
    if run.last:
        delivery, outcome = run.last
        values["last_error"] = describe(outcome, events.get(delivery.event_id))
    return db.session.execute(
        sa.update(table).where(*where).values(**values)
        .returning(table.c.status, table.c.consecutive_failures, table.c.failing_since)).first()


def _start_again(rule_ids):
    """Start the counts of these rules again after a success, those not at nought already (the
    rows returned, with their status), locked in the order of their ids as `_count` goes, so
    that two batches counting the same rules cannot deadlock."""
    if not rule_ids:
        return []
    return db.session.execute(_start_counts_again(), {"ids": rule_ids}).all()


@built_once
def _start_counts_again():
    table = TrackingRule.__table__
    counted = sa.or_(table.c.consecutive_failures != 0, table.c.failing_since.is_not(None))
    counting = (sa.select(table.c.id).where(among_parameter(table.c.id, "ids"), counted)
                .order_by(table.c.id).with_for_update())
    # Counting is not editing: "updated at" stays.
    return (sa.update(table).where(table.c.id.in_(counting))
            .values(updated_at=table.c.updated_at, consecutive_failures=0, failing_since=None)
            .returning(table.c.id, table.c.status))


def _duration(seconds):
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def reason_to_pause(run, row, thresholds, now):
    """Why the rule must be paused after this run, or None."""
    if not thresholds.pausing or not run.failures:
        return None
    if run.gone:
        return "Its target answered 410 Gone."
    _, failures, since = row
    if failures >= thresholds.failures and since is not None and \
            now - since >= timedelta(seconds=thresholds.seconds):
        return (f"Every attempt failed for {_duration(thresholds.seconds)} or more: "
                f"{failures} failed attempts in a row since {since:%Y-%m-%d %H:%M:%S} UTC.")
    return None


def _pause(rule_id, reason, now):
    """Pause the rule unless another worker did; whether this one did."""
    table = TrackingRule.__table__
    paused = db.session.execute(
        sa.update(table).where(table.c.id == rule_id, table.c.status == RuleStatus.ACTIVE)
        .values(status=RuleStatus.PAUSED, paused_at=now, paused_reason=reason,
                updated_at=table.c.updated_at)).rowcount
    if paused:
        rules_changed(db.session)
    return bool(paused)


def hold(where, **values):
    """Hold the in-flight deliveries matching `where` (their lease let go, `values` set too), in
    the caller's transaction; returns their ids."""
    return counts.change_status(where, DeliveryStatus.in_flight_statuses(), DeliveryStatus.HELD,
                                next_attempt_at=None, lease_until=None, note=HELD_NOTE, **values)


def hold_claimed(deliveries):
    """Hold deliveries a worker claimed whose rule is paused; none is attempted (the count of
    their claim is given back)."""
    if deliveries:
        table = Delivery.__table__
        hold([among(table.c.id, [d.id for d in deliveries])], attempts=table.c.attempts - 1)


def track(outcomes, changes, events, thresholds, now):
    """Count a batch's (delivery, Outcome) attempts against their rules and pause those past
    the Thresholds; the deliveries of paused rules are held (their next state in `changes`,
    the batch's {id, status, ...} updates, is changed in place); the meta events are recorded.
    `events`: {event id: event row} of the batch's deliveries. In the caller's transaction;
    returns the Aftermath to run once it is committed."""
    aftermath, runs, paused = Aftermath(), _runs(outcomes), set()
    outcome_of = {delivery.id: (delivery, outcome) for delivery, outcome in outcomes}
    failed = [change for change in changes if change["id"] in outcome_of and
              change["status"] in (DeliveryStatus.RETRYING, DeliveryStatus.FAILED)]
    if all(run.reset and not run.failures for run in runs.values()):
        # Every rule's last attempts succeeded (the common batch): one statement for them all.
        paused.update(row.id for row in _start_again(sorted(runs))
                      if row.status == RuleStatus.PAUSED)
        runs = {}
    for rule_id in sorted(runs):
        row = _count(rule_id, runs[rule_id], events)
        if row is None:
            continue
        reason = reason_to_pause(runs[rule_id], row, thresholds, now) \
            if row.status == RuleStatus.ACTIVE else None
        if reason and _pause(rule_id, reason, now):
            aftermath.paused.append(rule_id)
            delivery, outcome = runs[rule_id].last
            cause = events[delivery.event_id]
            aftermath.events.append(meta_events.rule_paused(
                db.session.get(TrackingRule, rule_id), reason, describe(outcome, cause), cause,
                now))
            paused.add(rule_id)
        elif row.status == RuleStatus.PAUSED:
            paused.add(rule_id)
    for change in failed:
        delivery, outcome = outcome_of[change["id"]]
        if delivery.rule_id in paused and not outcome.permanent:
            change.update(status=DeliveryStatus.HELD, next_attempt_at=None, note=HELD_NOTE)
        elif change["status"] == DeliveryStatus.FAILED:
            cause = events[delivery.event_id]
            aftermath.events.append(meta_events.delivery_failed(
                db.session.get(TrackingRule, delivery.rule_id), delivery.id, change["attempts"],
                describe(outcome, cause), cause, now))
    if aftermath.paused:
        table = Delivery.__table__
        hold([table.c.rule_id.in_(aftermath.paused),
              table.c.id.not_in(list(outcome_of)),
              Delivery.unleased(now)])
    return aftermath
