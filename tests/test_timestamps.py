"""Timestamps in a batch: the rows of one share a `now`, converted once for the database and
counted in its hour once; rows with other timestamps among them keep their own."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import ActionType, DeliveryCount, DeliveryStatus, Level, Trigger
from optintel.models.columns import UTCDateTime
from optintel.tracking_log import counts


def test_a_timestamp_given_again_converts_as_a_new_one_would(app):
    dialect = db.engine.dialect
    now = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
    other = datetime(2026, 12, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    values = [now, now, other, now, None, other, datetime(2026, 12, 2, 9, 30, 15, 123456)]
    batch = UTCDateTime().bind_processor(dialect)
    assert [batch(v) for v in values] == [UTCDateTime().bind_processor(dialect)(v) for v in values]
    assert batch(other) == UTCDateTime().bind_processor(dialect)(other.replace(hour=10,
                                                                                tzinfo=None))


def test_counts_of_deliveries_created_at_different_hours_go_to_their_own_hours(app):
    first = datetime(2026, 12, 2, 9, 5, tzinfo=timezone.utc)
    second = datetime(2026, 12, 2, 11, 55, tzinfo=timezone.utc)

    def delivery(created_at):
        return {"created_at": created_at, "rule_id": 7, "level": Level.PROJECT, "scope_id": None,
                "trigger": Trigger.CONTACT_ADDED, "action": ActionType.PING_URL, "host": "h"}
    counts.move([(delivery(at), None, DeliveryStatus.PENDING)
                 for at in (first, first, second, first, second)])
    db.session.commit()
    table = DeliveryCount.__table__
    assert dict(db.session.execute(sa.select(table.c.hour, table.c.count)).all()) == {
        first.replace(minute=0): 3, second.replace(minute=0): 2}
