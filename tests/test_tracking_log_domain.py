"""The Tracking Log's domain: its filters, contact masking, the chart, the hourly counts the chart
reads (kept by dispatch, the executor and retry), and pruning after the retention period."""
import hashlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from optintel.contact_changes import Origin, add_contacts
from optintel.tracking_log import counts
from optintel.deliveries.executor import execute
from optintel.deliveries.retry_by_hand import retry
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import (ActionType, Attempt, Channel, Delivery, DeliveryCount, DeliveryStatus,
                             Event, Level, LogAccess, ProjectSettings, Role, Status, TestRun,
                             TrackingRule, Trigger)
from optintel.models.columns import utcnow
from optintel.normalize import InvalidContact
from optintel.sql import hour_bucket
from optintel.tracking_log import pruning
from optintel.tracking_log.chart import chart
from optintel.normalize import typed_md5
from optintel.tracking_log.filters import LogFilter
from optintel.tracking_log.masking import mask_contact
from tests.conftest import free_port, wait_for

UTC = timezone.utc
S, F, R = DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.RETRYING


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def ping(url):
    return {"method": "POST", "url": url, "content_type": "json", "body": "{}", "timeout": 2}


def closed_url():
    return f"http://127.0.0.1:{free_port()}/hook"


def schedule(text):
    ProjectSettings.get().retry_schedule = text
    db.session.commit()


# ---- Filters ---------------------------------------------------------------------------------

EVERY_ARG = {"date_from": "2024-01-10", "date_to": "2024-01-12", "level": "email_list",
             "scope_id": "4", "trigger": "contact_deleted", "action": "smtp",
             "status": "retrying", "host": "mail.example.com", "list_id": "5", "mailer_id": "6",
             "campaign_id": "7", "rule_id": "8", "contact": "ann@example.com"}


def test_every_filter_is_read_typed_and_written_back(app):
    found = LogFilter.from_args(MultiDict(EVERY_ARG))
    assert found.errors == {}
    assert (found.date_from, found.date_to, found.level, found.scope_id, found.trigger,
            found.action, found.status, found.host, found.list_id, found.mailer_id,
            found.campaign_id, found.rule_id, found.contact) == \
        (date(2024, 1, 10), date(2024, 1, 12), Level.EMAIL_LIST, 4, Trigger.CONTACT_DELETED,
         ActionType.SMTP, DeliveryStatus.RETRYING, "mail.example.com", 5, 6, 7, 8,
         "ann@example.com")
    assert found.args() == EVERY_ARG
    assert LogFilter.from_args(MultiDict(found.args())) == found


def test_blank_values_filter_nothing_and_text_is_tidied(app):
    found = LogFilter.from_args(MultiDict({**{name: "  " for name in EVERY_ARG},
                                           "host": " Hooks.Example.COM ", "contact": " x@y.io "}))
    assert found.errors == {}
    assert found.args() == {"host": "hooks.example.com", "contact": "x@y.io"}


@pytest.mark.parametrize("name, value, message", [
    ("date_from", "2024-02-30", "Give a date as YYYY-MM-DD."),
    ("date_to", "12/01/2024", "Give a date as YYYY-MM-DD."),
    ("level", "galaxy", "Choose one of: project, email_campaign, sms_campaign, email_list, "
                        "phone_list."),
    ("trigger", "moved", "Choose one of: contact_added, contact_deleted, rule_paused, "
                         "rule_resumed, delivery_failed."),
    ("action", "fax", "Choose one of: ping_url, smtp, add_to_list, remove_from_list, slack."),
    ("status", "done", "Choose one of: pending, succeeded, retrying, failed, skipped, held."),
    ("scope_id", "x", "Give a number."),
    ("list_id", "-3", "Give a number."),
    ("mailer_id", "1e3", "Give a number."),
    ("campaign_id", "one", "Give a number."),
    ("rule_id", "7.0", "Give a number."),
    ("contact", "not an address", None),
])
def test_a_value_that_makes_no_sense_is_dropped_with_a_message(app, name, value, message):
    found = LogFilter.from_args(MultiDict({name: value, "status": "failed"} if name != "status"
                                          else {name: value}))
    assert list(found.errors) == [name]
    assert message is None or found.errors[name] == message
    assert name not in found.args()


def test_only_rule_properties_let_the_chart_read_the_hourly_counts(app):
    def only_rule(**args):
        return LogFilter.from_args(MultiDict(args)).only_rule_filters
    assert only_rule()
    assert only_rule(date_from="2024-01-01", date_to="2024-01-02", level="project",
                     scope_id="1", trigger="contact_added", action="slack", status="failed",
                     host="h.example", rule_id="3")
    for name, value in (("list_id", "1"), ("mailer_id", "1"), ("campaign_id", "1"),
                        ("contact", "ann@example.com")):
        assert not only_rule(**{name: value, "status": "failed"})


@pytest.mark.parametrize("typed, region, normalised", [
    ("  Ann.Lee@Example.COM ", "US", "ann.lee@example.com"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("+1 415 555 2671", "GB", "+14155552671"),
    ("07911 123456", "GB", "+447911123456"),
])
def test_a_typed_contact_stands_for_the_md5_of_its_normal_form(app, typed, region, normalised):
    ProjectSettings.get().default_phone_region = region
    db.session.commit()
    assert typed_md5(typed) == md5(normalised)


def test_a_typed_md5_is_taken_as_it_is(app):
    digest = md5("ann@example.com")
    assert typed_md5(" " + digest.upper() + " ") == digest


@pytest.mark.parametrize("typed", ["ann@", "12", "hello"])
def test_a_typed_contact_that_is_neither_is_refused(app, typed):
    with pytest.raises(InvalidContact):
        typed_md5(typed)


# ---- Masking ---------------------------------------------------------------------------------

@pytest.mark.parametrize("plain, shown", [
    ("jane.doe@example.com", "j***@example.com"),
    ("j@example.com", "j***@example.com"),
    ("+14155552671", "+1******2671"),
    ("+447700900123", "+4*******0123"),
    ("+12345", "+1****"),
])
def test_contacts_are_masked(plain, shown):
    assert mask_contact(plain, md5(plain)) == shown
    local = plain.partition("@")[0]
    assert len(local) < 3 or local not in shown


@pytest.mark.parametrize("plain", [None, ""])
def test_md5_only_contacts_show_their_md5(plain):
    assert mask_contact(plain, md5("ann@example.com")) == md5("ann@example.com")


# ---- Chart -----------------------------------------------------------------------------------

@pytest.fixture
def scene(make_user, make_list, make_rule):
    """Two lists, one owned, a Project rule and a rule on the owned list, and events to hang
    deliveries on; `deliver(rule_id, status, at)` adds one delivery, counted as dispatch and the
    executor count them."""
    owner = make_user(Role.LIST_OWNER)
    other, owned = make_list(), make_list(owner=owner)
    rules = {"project": make_rule("ping_url", ping(closed_url())),
             "owned": make_rule("ping_url", ping(closed_url()), "email_list", owned.id)}
    events = []
    for opt_out_list in (other, owned):
        ids = add_contacts(opt_out_list, [f"c{i}@example.com" for i in range(12)],
                           Origin("api")).event_ids
        events += db.session.scalars(sa.select(Event).where(Event.id.in_(ids))).all()
    used = Counter()

    def deliver(rule_id, status, at, on=None):
        rule = db.session.get(TrackingRule, rule_id)
        pool = [e for e in events if on is None or e.list_id == on.id]
        event = pool[used[(rule_id, on)]]
        used[(rule_id, on)] += 1
        row = {"event_id": event.id, "rule_id": rule.id, "action": rule.action,
               "level": rule.level, "scope_id": rule.scope_id, "trigger": event.trigger,
               "channel": event.channel, "list_id": event.list_id, "mailer_id": None,
               "campaign_id": None, "contact_md5": event.contact_md5, "host": rule.host,
               "status": status, "attempts": 1, "created_at": at, "updated_at": at}
        db.session.execute(sa.insert(Delivery.__table__), [row])
        counts.move([(row, None, status)])
        db.session.commit()
    return dict(owner=owner, lists=dict(other=other, owned=owned), rules=rules, deliver=deliver)


def shown(buckets):
    """{bucket start: (succeeded, failed, retrying)} of the buckets that are not empty."""
    return {start: (c[S], c[F], c[R]) for start, c in buckets if any(c.values())}


def this_hour():
    return utcnow().replace(minute=0, second=0, microsecond=0)


def test_the_default_chart_is_the_last_seven_days_by_day(app, admin, scene):
    deliver, rule = scene["deliver"], scene["rules"]["project"]
    now = utcnow()
    for status in (S, S, F, DeliveryStatus.PENDING, DeliveryStatus.SKIPPED):
        deliver(rule, status, now)
    deliver(rule, R, now - timedelta(days=2))
    deliver(rule, S, now - timedelta(days=9))
    result = chart(admin, LogFilter())
    assert not result.hourly
    first_day = (this_hour() + timedelta(hours=1) - timedelta(days=7)).replace(hour=0)
    assert [start for start, _ in result.buckets] == \
        [first_day + timedelta(days=i) for i in range(len(result.buckets))]
    assert result.buckets[-1][0] <= now < result.buckets[-1][0] + timedelta(days=1)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert shown(result.buckets) == {day: (2, 1, 0), day - timedelta(days=2): (0, 0, 1)}
    assert result.peak == 3


def test_three_days_or_less_are_drawn_by_hour(app, admin, scene):
    deliver, rule = scene["deliver"], scene["rules"]["project"]
    for status, at in ((S, datetime(2024, 1, 10, 5, 30)), (F, datetime(2024, 1, 10, 5, 10)),
                       (S, datetime(2024, 1, 10, 6, 0)), (R, datetime(2024, 1, 11, 23, 59)),
                       (S, datetime(2024, 1, 12, 0, 0)), (S, datetime(2024, 1, 9, 23, 59))):
        deliver(rule, status, at.replace(tzinfo=UTC))
    result = chart(admin, LogFilter(date_from=date(2024, 1, 10), date_to=date(2024, 1, 11)))
    assert result.hourly and len(result.buckets) == 48
    assert result.buckets[0][0] == datetime(2024, 1, 10, tzinfo=UTC)
    at = lambda day, hour: datetime(2024, 1, day, hour, tzinfo=UTC)  # noqa: E731
    assert shown(result.buckets) == {at(10, 5): (1, 1, 0), at(10, 6): (1, 0, 0),
                                     at(11, 23): (0, 0, 1)}
    assert result.peak == 2


def test_the_counts_and_the_deliveries_draw_the_same_chart(app, admin, scene):
    """A list filter is not a rule property: the chart then counts the deliveries themselves;
    with one list holding every delivery both ways must agree."""
    deliver, owned = scene["deliver"], scene["lists"]["owned"]
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for i, status in enumerate([S, F, R, S, S, F, R, S, DeliveryStatus.SKIPPED]):
        for name in ("project", "owned"):
            deliver(scene["rules"][name], status, start + timedelta(hours=7 * i, minutes=i),
                    on=owned)
    days = dict(date_from=date(2024, 3, 1), date_to=date(2024, 3, 3))
    from_counts = chart(admin, LogFilter(**days))
    from_deliveries = chart(admin, LogFilter(list_id=owned.id, **days))
    assert shown(from_counts.buckets) == shown(from_deliveries.buckets)
    assert sum(sum(c.values()) for _, c in from_counts.buckets) == 16
    assert shown(chart(admin, LogFilter(list_id=scene["lists"]["other"].id, **days)).buckets) == {}
    by_rule = chart(admin, LogFilter(rule_id=scene["rules"]["owned"], **days))
    assert sum(sum(c.values()) for _, c in by_rule.buckets) == 8
    failed = chart(admin, LogFilter(status=F, **days))
    assert [c[F] for _, c in failed.buckets if any(c.values())] == [2, 2]
    assert sum(c[S] + c[R] for _, c in failed.buckets) == 0


@pytest.mark.parametrize("who, totals", [("admin", (4, 3, 1)), ("owner", (1, 0, 1)),
                                         ("stranger", (0, 0, 0)), ("manager", (0, 0, 0))])
def test_the_chart_counts_only_the_rows_one_may_see(app, admin, make_user, scene, who, totals):
    """Totals: unfiltered, on the other list, on the owned list."""
    deliver, lists, now = scene["deliver"], scene["lists"], utcnow()
    for rule, status, on in (("project", S, "other"), ("project", F, "other"),
                             ("project", R, "other"), ("owned", F, "owned")):
        deliver(scene["rules"][rule], status, now, on=lists[on])
    user = {"admin": admin, "owner": scene["owner"], "stranger": make_user(Role.LIST_OWNER),
            "manager": make_user(Role.CAMPAIGN_MANAGER)}[who]
    seen = tuple(sum(sum(c.values()) for _, c in chart(user, log_filter).buckets)
                 for log_filter in (LogFilter(), LogFilter(list_id=lists["other"].id),
                                    LogFilter(list_id=lists["owned"].id)))
    assert seen == totals


# ---- Hourly counts kept by dispatch, the executor and retry ------------------------------------

def grouped_deliveries():
    table = Delivery.__table__
    hour = hour_bucket(table.c.created_at)
    rows = db.session.execute(sa.select(hour, table.c.rule_id, table.c.status, sa.func.count())
                              .group_by(hour, table.c.rule_id, table.c.status)).all()
    return {(_aware(h), rule_id, DeliveryStatus(status)): n for h, rule_id, status, n in rows}


def counted():
    rows = db.session.execute(sa.select(DeliveryCount.__table__)).all()
    return {(row.hour, row.rule_id, DeliveryStatus(row.status)): row.count
            for row in rows if row.count}


def _aware(value):
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC)


def test_the_hourly_counts_match_the_deliveries_after_every_kind_of_change(
        app, admin, http_sink, make_list, make_rule):
    schedule("0, 3600")  # a refused attempt is retried in an hour, then the delivery fails
    first, second = make_list(), make_list(channel=Channel.PHONE)
    rules = {"ok": make_rule("ping_url", ping(http_sink.url + "/ok")),
             "refused": make_rule("ping_url", ping(closed_url())),
             "disabled": make_rule("ping_url", ping(http_sink.url + "/off")),
             "on_list": make_rule("slack", {"webhook_url": http_sink.url + "/slack",
                                            "text": "{{contact}}"}, "email_list", first.id)}
    ids = dispatch(add_contacts(first, [f"u{i}@example.com" for i in range(4)],
                                Origin("api")).event_ids)
    ids += dispatch(add_contacts(second, ["+14155552671", "+14155552672"], Origin("api")).event_ids)
    assert len(ids) == 4 * 4 + 2 * 3
    assert counted() == grouped_deliveries()

    db.session.get(TrackingRule, rules["disabled"]).status = Status.DISABLED
    db.session.commit()
    pending = ids[-1]
    assert execute(ids[:-1]) > 0  # succeeded, retrying, skipped
    assert counted() == grouped_deliveries()

    # An hour later the retrying ones are due again, and fail for good.
    refused = db.session.scalars(sa.select(Delivery.id).where(
        Delivery.rule_id == rules["refused"], Delivery.status == R)).all()
    db.session.execute(sa.update(Delivery.__table__).where(Delivery.__table__.c.id.in_(refused[:3]))
                       .values(next_attempt_at=datetime(2000, 1, 1)))
    db.session.commit()
    assert execute(refused[:3]) == 3
    assert counted() == grouped_deliveries()

    # Retried by hand: a succeeded and a failed one go pending, then run again.
    again = [db.session.scalar(sa.select(Delivery).where(Delivery.rule_id == rules[name],
                                                         Delivery.status == status))
             for name, status in (("ok", S), ("refused", F))]
    for delivery in again:
        retry(delivery, admin)
    assert counted() == grouped_deliveries()
    assert execute([d.id for d in again]) == 2
    assert counted() == grouped_deliveries()

    statuses = {status for _, _, status in grouped_deliveries()}
    assert statuses == {DeliveryStatus.PENDING, S, F, R, DeliveryStatus.SKIPPED}
    assert db.session.get(Delivery, pending).status == DeliveryStatus.PENDING
    # Each count row says what its rule was, as the log's filters need.
    for row in db.session.scalars(sa.select(DeliveryCount)):
        rule = db.session.get(TrackingRule, row.rule_id)
        assert (row.level, row.scope_id, row.trigger, row.action, row.host) == \
            (rule.level, rule.scope_id, rule.trigger, rule.action, rule.host)
    # And the chart from the counts is the sum of the charts of each list (from deliveries).
    by_list = Counter()
    for opt_out_list in (first, second):
        for start, (succeeded, failed, retrying) in shown(
                chart(admin, LogFilter(list_id=opt_out_list.id)).buckets).items():
            by_list.update({(start, S): succeeded, (start, F): failed, (start, R): retrying})
    assert {(start, status): n for start, c in chart(admin, LogFilter()).buckets
            for status, n in c.items() if n} == {key: n for key, n in by_list.items() if n}


# ---- Pruning ---------------------------------------------------------------------------------

def aged(model, ids, moment, column="created_at"):
    table = model.__table__
    db.session.execute(sa.update(table).where(table.c.id.in_(ids))
                       .values({column: moment.replace(tzinfo=None)}))
    db.session.commit()


@pytest.fixture
def old_and_new(admin, make_list, make_rule):
    """Ten deliveries (six failed with an attempt each, four pending), test runs, log accesses
    and counts; in each table half are 40 days old."""
    schedule("0")
    rule_id = make_rule("ping_url", ping(closed_url()))
    ids = dispatch(add_contacts(make_list(), [f"p{i}@example.com" for i in range(10)],
                                Origin("api")).event_ids)
    assert execute(ids[:6]) == 6
    rule = db.session.get(TrackingRule, rule_id)
    runs = [TestRun(rule=rule, user=admin, level=rule.level, scope_id=None, action=rule.action,
                    trigger=rule.trigger) for _ in range(4)]
    db.session.add_all(runs)
    db.session.commit()
    accesses = [LogAccess(user=admin, delivery_id=ids[i]) for i in (0, 5)] + \
        [LogAccess(user=admin, test_run_id=runs[i].id) for i in (0, 3)]
    db.session.add_all(accesses)
    db.session.commit()
    then = utcnow() - timedelta(days=40)
    hour = then.replace(minute=0, second=0, microsecond=0)
    db.session.add_all(DeliveryCount(hour=hour - timedelta(hours=i), rule_id=rule_id,
                                     level=rule.level, trigger=rule.trigger, action=rule.action,
                                     host=rule.host, status=F, count=1) for i in range(3))
    db.session.commit()
    aged(Delivery, ids[:3] + ids[6:8], then)
    aged(TestRun, [runs[0].id, runs[1].id], then)
    aged(LogAccess, [accesses[0].id, accesses[2].id], then, "accessed_at")
    return dict(deliveries=ids, runs=[r.id for r in runs], accesses=[a.id for a in accesses])


def remaining(model):
    db.session.rollback()
    return sorted(db.session.scalars(sa.select(model.id)))


def test_rows_older_than_the_retention_period_are_pruned(app, old_and_new, monkeypatch):
    ids, runs, accesses = old_and_new["deliveries"], old_and_new["runs"], old_and_new["accesses"]
    events, counted_rows = remaining(Event), remaining(DeliveryCount)
    assert pruning.prune() == 0  # 40 days is within the default 90
    assert remaining(Delivery) == sorted(ids)

    ProjectSettings.get().log_retention_days = 30
    db.session.commit()
    monkeypatch.setattr(pruning, "BATCH", 2)  # several batches per table
    assert pruning.prune() == 3 + 2 + 2 + 3
    # Old in-flight deliveries (ids[6:8]) wait until they settle; attempts go with their delivery.
    assert remaining(Delivery) == sorted(ids[3:])
    assert sorted(db.session.scalars(sa.select(Attempt.delivery_id))) == sorted(ids[3:6])
    assert remaining(TestRun) == sorted(runs[2:])
    assert remaining(LogAccess) == sorted([accesses[1], accesses[3]])
    assert len(remaining(DeliveryCount)) == len(counted_rows) - 3
    assert remaining(Event) == events  # the record of the lists stays
    assert pruning.prune() == 0


def test_a_worker_prunes_the_log_by_itself(app, old_and_new, workers):
    ids = old_and_new["deliveries"]
    ProjectSettings.get().log_retention_days = 30
    db.session.commit()
    workers.start(1)
    wait_for(lambda: not set(ids[:3]) & set(remaining(Delivery)),
             message="the worker to prune the old deliveries")
    assert set(ids[3:6]) <= set(remaining(Delivery))
