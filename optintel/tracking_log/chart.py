"""Succeeded / failed / retrying / held deliveries over time, for the filtered rows: from the hourly
counts when the filter only names rule properties, from the deliveries' index otherwise."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import Delivery, DeliveryCount, DeliveryStatus
from ..models.columns import utcnow
from ..access import managed_scopes
from ..sql import hour_bucket
from .filters import apply, start_of

SHOWN = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.RETRYING,
         DeliveryStatus.HELD)
DEFAULT_DAYS = 7
# The longest the log keeps its rows (the largest retention of Project Settings, and then some):
# a longer range is charted over its last MAX_DAYS days, a bucket each.
MAX_DAYS = 3660


@dataclass
class Chart:
    hourly: bool
    buckets: list  # [(start, {status: count})], oldest first
    peak: int


def chart(user, log_filter):
    """The chart of the rows the user sees through the filter."""
    last = start_of(log_filter.date_to) + timedelta(days=1) if log_filter.date_to else \
        utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    first = start_of(log_filter.date_from) if log_filter.date_from else \
        last - timedelta(days=DEFAULT_DAYS)
    first = max(first, last - timedelta(days=MAX_DAYS))
    hourly = last - first <= timedelta(days=3)
    counts = _hourly_counts(user, log_filter, first, last)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    buckets, moment = [], first.replace(hour=0) if not hourly else first
    while moment < last:
        buckets.append((moment, {status: 0 for status in SHOWN}))
        moment += step
    for hour, status, count in counts:
        index = int((hour - buckets[0][0]) / step)
        if 0 <= index < len(buckets) and status in SHOWN:
            buckets[index][1][status] += count
    peak = max([sum(c.values()) for _, c in buckets] or [0])
    return Chart(hourly, buckets, peak)


def _hourly_counts(user, log_filter, first, last):
    """[(hour, status, count)] between first and last."""
    if log_filter.only_rule_filters:
        table = DeliveryCount.__table__
        hour, moment, amount = table.c.hour, table.c.hour, table.c.count
    else:
        table = Delivery.__table__
        hour, moment, amount = hour_bucket(table.c.created_at), table.c.created_at, \
            sa.literal_column("1")
    # One row an hour with a sum per status: read in the order of the hour's index, the rows
    # are added up as they come instead of being sorted into (hour, status) groups first.
    sums = [sa.func.sum(sa.case((table.c.status == status, amount), else_=0)) for status in SHOWN]
    query = apply(sa.select(hour, *sums), table, log_filter).where(
        managed_scopes(user, table.c.level, table.c.scope_id), table.c.status.in_(SHOWN),
        moment >= first, moment < last)
    totals = defaultdict(int)
    for moment, *counts in db.session.execute(query.group_by(hour)):
        for status, count in zip(SHOWN, counts):
            totals[(_as_datetime(moment), status)] += int(count or 0)
    return [(moment, status, count) for (moment, status), count in totals.items() if count]


def _as_datetime(value):
    """An hour bucket as an aware datetime, whichever type the database gave."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
