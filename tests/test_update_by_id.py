"""sql.update_by_id, the UPDATE of a batch's outcomes, on both databases: every value comes back
as it was given (JSON, text that an array's text form would quote or escape, NULLs, enums,
timestamps), each row its own, rows not given untouched; a batch's different outcomes go to
PostgreSQL in one statement, not one a row."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries import attempts, leases
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Attempt, AttemptState
from optintel.models.columns import utcnow
from optintel.sql import update_by_id
from tests.conftest import database_of_kind, make_config, statements_of
from tests.test_insert_rows import AWKWARD

COLUMNS = ("state", "started_at", "duration_ms", "succeeded", "request", "response_status",
           "response_headers", "response_body", "error")


@pytest.fixture(params=["sqlite", "postgresql"])
def app_config(request, redis_server):
    """The suite's database when it is of that kind, else one of that kind for these tests."""
    return make_config(database_of_kind(request, "update_by_id.db"), redis_server.url)


def started_attempts(make_list, make_rule, count):
    make_rule("ping_url", {"method": "POST", "url": "https://hooks.example.com/x",
                           "content_type": "json", "body": "{}"})
    ids = dispatch(add_contacts(make_list(), [f"u{i}@example.com" for i in range(count)],
                                Origin("api")).event_ids)
    started = attempts.start(leases.claim(leases.due(ids)))
    leases.let_go(ids)
    return sorted(attempt_id for attempt_id, _ in started.values())


def outcome(n, attempt_id, now):
    text = AWKWARD[n % len(AWKWARD)]
    return {"id": attempt_id, "state": AttemptState.COMPLETED,
            "started_at": now - timedelta(seconds=n), "duration_ms": n,
            "succeeded": n % 2 == 0,
            "request": {"url": f"https://hooks.example.com/{n}", "body": text,
                        "headers": {"X-Quote": text, "X-N": str(n)}},
            "response_status": None if n % 3 == 0 else 200 + n,
            "response_headers": {} if n % 4 == 0 else {"Server": text, "Null": None},
            "response_body": text, "error": "" if n % 5 else text}


def stored(ids):
    table = Attempt.__table__
    return [dict(row._mapping) for row in db.session.execute(
        sa.select(table.c.id, *(table.c[name] for name in COLUMNS))
        .where(table.c.id.in_(ids)).order_by(table.c.id))]


def test_every_value_comes_back_as_it_was_given(app, make_list, make_rule):
    ids = started_attempts(make_list, make_rule, 2 * len(AWKWARD) + 1)
    given, now = ids[:-1], utcnow()
    rows = [outcome(n, attempt_id, now) for n, attempt_id in enumerate(given)]
    untouched = stored(ids[-1:])

    update_by_id(Attempt.__table__, rows)
    db.session.commit()

    assert stored(given) == rows
    assert stored(ids[-1:]) == untouched
    assert untouched[0]["state"] == AttemptState.STARTED


def test_a_batchs_outcomes_are_one_statement_on_postgresql(app, make_list, make_rule):
    ids, now = started_attempts(make_list, make_rule, 40), utcnow()
    rows = [outcome(n, attempt_id, now) for n, attempt_id in enumerate(ids)]

    _, sent = statements_of(lambda: update_by_id(Attempt.__table__, rows))
    db.session.commit()

    updates = [(sql, parameters) for sql, parameters in sent if sql.startswith("UPDATE")]
    if db.engine.dialect.name == "postgresql":
        assert len(updates) == 1 and "unnest" in updates[0][0], updates
    else:  # the driver's executemany: one statement, its rows' parameters
        assert len(updates) == 1 and len(updates[0][1]) == len(rows), updates
    assert stored(ids) == rows
