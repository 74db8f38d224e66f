"""The Tracking Log's filters each find their deliveries through their own index, on both
databases: the plan of a filtered page, with the parameters bound as the app binds them, of a log
of 10,000 deliveries (SQLite without ANALYZE, as the app runs none; PostgreSQL analysed, as
autovacuum would). The partial indexes of mailer and campaign serve a filter on them; the
contact filter goes through the contact's events."""
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from optintel.extensions import db
from optintel.models import (ActionType, Channel, ContactSource, Delivery, DeliveryStatus, Event,
                             Level, Trigger)
from optintel.models.columns import utcnow
from optintel.normalize import typed_md5
from optintel.tracking_log.filters import LogFilter, apply
from tests.conftest import database_of_kind, make_config, statements_of

EVENTS, RULES_AN_EVENT, SPREAD = 2500, 4, 50
# Each filter, and the index that serves it.
FILTERS = {"mailer_id=3": "ix_deliveries_mailer_id_id",
           "campaign_id=3": "ix_deliveries_campaign_id_id",
           "list_id=3": "ix_deliveries_list_id_id",
           "status=failed": "ix_deliveries_status_id",
           "rule_id={rule}": "ix_deliveries_rule_id_id",
           "host=h3.example.com": "ix_deliveries_host_id",
           "level=email_list&scope_id=3": "ix_deliveries_scope_id",
           "contact=c3@example.com": "ix_events_contact_md5",
           "contact=c3@example.com&status=failed": "ix_events_contact_md5"}


@pytest.fixture(params=["sqlite", "postgresql"])
def app_config(request, redis_server):
    """The suite's database when it is of that kind, else one of that kind for these tests."""
    return make_config(database_of_kind(request, "plans.db"), redis_server.url)


def filled_log(make_list, rule_id):
    """EVENTS contacts' events, each with RULES_AN_EVENT deliveries spread over SPREAD mailers,
    campaigns, lists, scopes and hosts; one in SPREAD failed, one in SPREAD of the first
    deliveries of the rule."""
    list_id, now = make_list().id, utcnow()
    events, deliveries = Event.__table__, Delivery.__table__
    db.session.execute(events.insert(), [
        {"trigger": Trigger.CONTACT_ADDED, "channel": Channel.EMAIL, "list_id": list_id,
         "contact_md5": typed_md5(f"c{n}@example.com"), "source": ContactSource.API,
         "occurred_at": now, "dispatched_at": now, "depth": 0} for n in range(EVENTS)])
    md5s = dict(db.session.execute(sa.select(events.c.id, events.c.contact_md5)).all())
    db.session.execute(deliveries.insert(), [
        {"event_id": event_id, "rule_id": rule_id if n % SPREAD == 0 and n < EVENTS else None,
         "action": ActionType.PING_URL, "level": Level.EMAIL_LIST, "scope_id": n % SPREAD,
         "trigger": Trigger.CONTACT_ADDED, "channel": Channel.EMAIL, "list_id": n % SPREAD,
         "mailer_id": n % SPREAD or None, "campaign_id": n % SPREAD or None,
         "contact_md5": md5s[event_id], "host": f"h{n % SPREAD}.example.com",
         "status": DeliveryStatus.FAILED if n % SPREAD == 1 else DeliveryStatus.SUCCEEDED,
         "attempts": 1, "note": "", "created_at": now, "updated_at": now}
        for n, event_id in enumerate(sorted(md5s) * RULES_AN_EVENT)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE events"))
        db.session.execute(sa.text("ANALYZE deliveries"))
        db.session.commit()


def plan_of(args):
    """The plan of a Tracking Log page with this query string's filter, as one text."""
    log_filter = LogFilter.from_args(MultiDict(re.findall(r"([^&=]+)=([^&]*)", args)))
    assert not log_filter.errors
    query = apply(sa.select(Delivery.id), Delivery.__table__, log_filter)
    _, sent = statements_of(lambda: db.session.execute(
        query.order_by(Delivery.id.desc()).limit(50)).all())
    [(sql, parameters)] = sent
    explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    plan = "\n".join(row[-1] if explain.endswith("PLAN ") else row[0] for row in
                     db.session.connection().exec_driver_sql(explain + sql, parameters))
    db.session.rollback()
    return plan


def test_each_filter_of_a_page_walks_its_own_index(app, make_list, make_rule):
    rule_id = make_rule("ping_url", {"method": "POST", "url": "https://hooks.example.com/x",
                                     "content_type": "json", "body": "{}"})
    filled_log(make_list, rule_id)
    for args, index in FILTERS.items():
        plan = plan_of(args.format(rule=rule_id))
        assert index in plan, (args, plan)
        # Never every delivery read: SQLite's SCAN, PostgreSQL's Seq Scan.
        assert not re.search(r"^(SCAN|.*Seq Scan on) deliveries\b", plan, re.M), (args, plan)
