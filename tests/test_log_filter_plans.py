"""The Tracking Log's filters each find their deliveries through an index: the plan SQLite makes
of a filtered page, with the parameters bound as the app binds them (the app runs no ANALYZE),
searches an index for every filter and never scans the deliveries. The partial indexes of
mailer and campaign serve a filter on them; the contact filter goes through the contact's
events. (PostgreSQL plans by its statistics, which an almost empty test database does not
have: bench/log_pages.py times these pages on a filled one.)"""
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from optintel.extensions import db
from optintel.models import Delivery
from optintel.tracking_log.filters import LogFilter, apply
from tests.conftest import statements_of

FILTERS = ["mailer_id=3", "campaign_id=3", "list_id=3", "status=failed", "rule_id=3",
           "host=hooks.example.com", "level=email_list&scope_id=3", "contact=ann.lee@example.com",
           "contact=ann.lee@example.com&status=failed"]


def plan_of(args):
    """The lines of SQLite's plan of a Tracking Log page with this query string's filter."""
    log_filter = LogFilter.from_args(MultiDict(re.findall(r"([^&=]+)=([^&]*)", args)))
    assert not log_filter.errors
    query = apply(sa.select(Delivery.id), Delivery.__table__, log_filter)
    _, sent = statements_of(lambda: db.session.execute(
        query.order_by(Delivery.id.desc()).limit(50)).all())
    [(sql, parameters)] = sent
    return [row[-1] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + sql, parameters)]


@pytest.mark.parametrize("args", FILTERS)
def test_a_filtered_page_searches_an_index_of_the_deliveries(app, args):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plans follow its statistics")
    plan = plan_of(args)
    deliveries = [line for line in plan if re.search(r"\bdeliveries\b", line)]
    assert deliveries and all(line.startswith("SEARCH deliveries USING") for line in deliveries), plan
    if "contact=" in args:
        assert any("ix_events_contact_md5" in line for line in plan), plan
