"""Test Run: a rule's action run once, for real, through the workers, with values typed in its
pop-up (Add/Remove actions only say what they would change). It is recorded as a test run,
never as an event or a delivery. A Test Run that succeeds resumes its rule if it was paused."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError

from . import actions, placeholders
from .actions.base import Outcome, Work
from .actions.target_policy import project_policy
from .deliveries import release
from .deliveries.executor import timed_attempt
from .extensions import db
from .models import Campaign, Channel, DeliveryStatus, OptOutList, TestRun
from .models.columns import utcnow
from .normalize import InvalidContact, md5_of, typed_md5
from .queue import DELIVERIES_QUEUE, queue
from .rules.storage import stored_settings
from .validation import Invalid

log = logging.getLogger(__name__)
RUN_JOB = "optintel.jobs.run_test"
# With more jobs than this waiting, a run no worker took is more likely queued than lost.
BACKLOG = 50


def sample_values(rule):
    """Realistic values for every placeholder, taken from the rule's own list or campaign where
    it has one."""
    values = dict(placeholders.SAMPLES, rule_id=str(rule.id), trigger=rule.trigger.value)
    channel = rule.level.channel or _target_channel(rule)
    if rule.level.is_list:
        scope = db.session.get(OptOutList, rule.scope_id)
        values.update(list_id=str(scope.id), list_name=scope.name)
    elif rule.level.is_campaign:
        scope = db.session.get(Campaign, rule.scope_id)
        values.update(campaign_id=str(scope.id), campaign_name=scope.name)
    if channel == Channel.PHONE:
        values.update(channel="phone", contact=values["phone"], email="")
    else:
        values.update(channel="email", phone="")
    values["contact_md5"] = md5_of(values["contact"])
    return values


def _target_channel(rule):
    """A Project rule's channel: its target list's for Add/Remove, else email."""
    target_id = actions.get(rule.action).target_list_id(rule.action_settings or {})
    target = db.session.get(OptOutList, target_id) if target_id else None
    return target.channel if target else Channel.EMAIL


def _with_typed(samples, typed):
    """The samples with the typed values; a typed contact also sets its MD5 (unless typed too),
    so that {{contact_md5}} and a dry run of Add/Remove speak of the same contact."""
    values = {**samples, **{k: str(v) for k, v in typed.items()}}
    contact = next((typed[k] for k in ("contact", "email", "phone") if typed.get(k)), None)
    if contact and "contact_md5" not in typed:
        values["contact"] = str(contact)
        try:
            values["contact_md5"] = typed_md5(str(contact), Channel(values["channel"]))
        except (InvalidContact, ValueError):
            values["contact_md5"] = md5_of(str(contact).strip().lower())
    return values


def fields_of(rule):
    """[(placeholder, sample value)] for the placeholders the rule uses, in order."""
    samples = sample_values(rule)
    used = actions.get(rule.action).placeholders_used(stored_settings(rule))
    return [(name, samples[name]) for name in used]


def start(rule, typed, user):
    """Record a test run of the rule with the typed values (others from samples) and hand it
    to the workers; returns the TestRun."""
    unknown = sorted(set(typed) - set(placeholders.NAMES))
    if unknown:
        raise Invalid({"values": [f"Unknown placeholder {{{{{unknown[0]}}}}}."]})
    values = _with_typed(sample_values(rule), typed)
    run = TestRun(rule=rule, user=user, level=rule.level, scope_id=rule.scope_id,
                  action=rule.action, trigger=rule.trigger, host=rule.host, values=values)
    db.session.add(run)
    db.session.commit()
    hand_off(run.id)
    return run


def hand_off(run_id):
    """Enqueue the run for a worker; with Redis down it waits for hand_off_lost."""
    try:
        queue(DELIVERIES_QUEUE).enqueue(RUN_JOB, run_id, job_timeout=300, result_ttl=0)
    except RedisError as exc:
        log.warning("Redis unavailable, test run %s waits for the reconciler: %s", run_id, exc)


def hand_off_lost(older_than_seconds):
    """Hand out again the runs that no worker took for that long (Redis lost them)."""
    if queue(DELIVERIES_QUEUE).count >= BACKLOG:
        return 0
    before = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(sa.select(TestRun.id).where(
        TestRun.started_at.is_(None), TestRun.created_at < before).limit(1000)).all()
    db.session.rollback()
    for run_id in ids:
        hand_off(run_id)
    return len(ids)


def execute(run_id):
    """Run a pending test run once and record what happened."""
    table = TestRun.__table__
    taken = db.session.execute(sa.update(table).where(table.c.id == run_id,
                                                      table.c.started_at.is_(None))
                               .values(started_at=utcnow()))
    db.session.commit()
    if taken.rowcount != 1:
        return None
    run = db.session.get(TestRun, run_id)
    if run.rule is None:
        outcome = Outcome(False, error="The rule was deleted before the test ran.")
    else:
        outcome = _attempt(run)
    run.status = DeliveryStatus.SUCCEEDED if outcome.succeeded else DeliveryStatus.FAILED
    run.request, run.response_status = outcome.request, outcome.response_status
    run.response_headers, run.response_body = outcome.response_headers, outcome.response_body
    run.error, run.duration_ms, run.completed_at = outcome.error, outcome.duration_ms, utcnow()
    db.session.commit()
    if outcome.succeeded and run.rule is not None and run.rule.is_paused:
        release.resume(run.rule, run.rule.status, f"Test Run #{run.id} succeeded")
    return run


def _attempt(run):
    """The action's test, timed as the executor times every attempt."""
    action, values = actions.get(run.action), run.values
    event = {"id": None, "trigger": run.trigger, "channel": Channel(values["channel"]),
             "list_id": None, "contact": values.get("contact") or None,
             "contact_md5": values.get("contact_md5") or "", "mailer_id": None,
             "campaign_id": None, "depth": 0}
    work = Work(f"test_{run.id}", run.rule_id, None, values, event, project_policy(),
                viewer=run.user)

    def test(work):
        work.settings = action.prepare(stored_settings(run.rule))
        return action.test(work)
    return timed_attempt(test, work)
