"""PostgreSQL under a sudden backlog: its statistics still say that in-flight deliveries are rare
(autovacuum analyses a large table long after), yet a worker's batch reads and claims its
deliveries by their ids instead of scanning every in-flight one, and reads the next due ones without bitmap
scans (which would read every due one and sort them); and the deliveries' pages keep room for
a batch's claim, the attempts' for their outcomes."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries import attempts, leases
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Attempt, AttemptState, Delivery, DeliveryStatus
from optintel.models.columns import utcnow
from optintel.sql import update_by_id
from tests.conftest import make_config, statements_of

BACKLOG = 3000


@pytest.fixture
def app_config(postgresql_url, redis_server):
    """PostgreSQL's planner and storage: these run on PostgreSQL whichever database the suite
    runs on (SQLite plans without statistics)."""
    return make_config(postgresql_url, redis_server.url)


def ping_rule(make_rule):
    make_rule("ping_url", {"method": "POST", "url": "https://hooks.example.com/x",
                           "content_type": "json", "body": "{}"})


def test_a_claim_takes_its_deliveries_by_id_in_a_backlog_the_statistics_do_not_know(
        app, make_list, make_rule):
    ping_rule(make_rule)
    ids = dispatch(add_contacts(make_list(), [f"p{i}@example.com" for i in range(BACKLOG)],
                                Origin("api")).event_ids)
    assert len(ids) == BACKLOG
    table = Delivery.__table__
    # What the statistics know: every delivery settled.
    db.session.execute(sa.update(table).values(status=DeliveryStatus.SUCCEEDED,
                                               next_attempt_at=None))
    db.session.commit()
    db.session.execute(sa.text("ANALYZE deliveries"))
    db.session.commit()
    # Then a backlog, not analysed yet.
    db.session.execute(sa.update(table).values(status=DeliveryStatus.PENDING,
                                               next_attempt_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()

    claimed, sent = statements_of(lambda: leases.claim(leases.due(ids[:50])))
    assert [row.id for row in claimed] == ids[:50]
    # The read of the due ones among them, then the claim.
    by_id = [(sql, parameters) for sql, parameters in sent
             if sql.startswith("SELECT deliveries.id") or (
                 sql.startswith("UPDATE deliveries SET") and "lease_until=" in sql.split("WHERE")[0])]
    assert [sql.split()[0] for sql, _ in by_id] == ["SELECT", "UPDATE"]
    plans = ["\n".join(row[0] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN " + sql, parameters)) for sql, parameters in by_id]
    db.session.rollback()
    for plan in plans:
        assert "pk_deliveries" in plan, plan
        assert "ix_deliveries_status_id" not in plan and "ix_deliveries_due" not in plan, plan


def test_a_batchs_claim_is_written_beside_its_rows(app, make_list, make_rule):
    ping_rule(make_rule)
    batch = app.config["OPTINTEL_DELIVERY_BATCH"]
    ids = dispatch(add_contacts(make_list(), [f"h{i}@example.com" for i in range(batch)],
                                Origin("api")).event_ids)

    # One statement updates a batch of rows that share their pages: each page keeps room for a
    # new version of each of its rows, so no index gets an entry (a HOT update). The backend's
    # counts not yet reported hold earlier transactions' too: the claim's are the difference.
    counts = sa.text("SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass), "
                     "pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)")
    before = db.session.execute(counts).one()
    assert [row.id for row in leases.claim(leases.due(ids))] == ids
    after = db.session.execute(counts).one()
    db.session.rollback()
    assert (after[0] - before[0], after[1] - before[1]) == (batch, batch)
    options = dict(db.session.execute(sa.text(
        "SELECT relname, reloptions FROM pg_class "
        "WHERE relname IN ('deliveries', 'attempts')")).all())
    assert options == {"deliveries": ["fillfactor=50"], "attempts": ["fillfactor=10"]}


# What a Ping URL attempt records when completed, about as large as it most often is.
SENT = {"method": "POST", "url": "https://hooks.example.com/x",
        "headers": {"Content-Type": "application/json", "webhook-id": "1",
                    "webhook-timestamp": "1796300000", "webhook-signature": "v1," + "s" * 44},
        "body": '{"event_id": "1", "trigger": "contact_added", "email": "someone@example.com", '
                '"contact_md5": "' + "0" * 32 + '", "list": "Newsletter", "source": "api"}'}
RECEIVED = {"Content-Type": "application/json", "Content-Length": "16",
            "Date": "Thu, 03 Dec 2026 17:00:00 GMT", "Server": "nginx"}


def test_a_batchs_outcomes_are_written_beside_their_started_attempts(app, make_list, make_rule):
    ping_rule(make_rule)
    batch = app.config["OPTINTEL_DELIVERY_BATCH"]
    ids = dispatch(add_contacts(make_list(), [f"o{i}@example.com" for i in range(batch)],
                                Origin("api")).event_ids)
    started = attempts.start(leases.claim(leases.due(ids)))
    outcomes = [{"id": attempt_id, "state": AttemptState.COMPLETED, "started_at": utcnow(),
                 "duration_ms": 12, "succeeded": True, "request": SENT, "response_status": 200,
                 "response_headers": RECEIVED, "response_body": '{"received": true}', "error": ""}
                for attempt_id, _ in started.values()]

    # A started attempt grows about tenfold with its outcome: its page keeps room for that, so
    # neither index of attempts gets an entry (a HOT update).
    counts = sa.text("SELECT pg_stat_get_xact_tuples_updated('attempts'::regclass), "
                     "pg_stat_get_xact_tuples_hot_updated('attempts'::regclass)")
    before = db.session.execute(counts).one()
    update_by_id(Attempt.__table__, outcomes)
    after = db.session.execute(counts).one()
    db.session.rollback()
    leases.let_go(ids)
    assert (after[0] - before[0], after[1] - before[1]) == (batch, batch)


def test_the_next_due_deliveries_are_read_without_bitmap_scans(app, make_list, make_rule):
    ping_rule(make_rule)
    ids = dispatch(add_contacts(make_list(), ["a@example.com", "b@example.com"],
                                Origin("api")).event_ids)
    claimed, sent = statements_of(lambda: leases.claim(leases.due([], up_to=10)))
    assert [row.id for row in claimed] == ids
    order = [sql.split("\n")[0].strip() for sql, _ in sent
             if sql.startswith(("SET LOCAL", "SELECT deliveries.next_attempt_at"))]
    assert order == ["SET LOCAL enable_bitmapscan = off",
                     *["SELECT deliveries.next_attempt_at, deliveries.id"] * 2,
                     "SET LOCAL enable_bitmapscan TO DEFAULT"]
    # Only for them: the rest of the transaction plans as it would.
    assert db.session.execute(sa.text("SELECT current_setting('enable_bitmapscan')")).scalar() \
        == "on"
    db.session.rollback()
