"""The Tracking Log's filters, read from the query string (so they can be bookmarked) and
applied to the denormalised deliveries table, one index per filter."""
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from ..ids import LARGEST, as_id
from ..models import ActionType, DeliveryStatus, Event, Level, Trigger
from ..normalize import InvalidContact, typed_md5

ENUMS = {"level": Level, "trigger": Trigger, "action": ActionType, "status": DeliveryStatus}
# Days a filter may name: no delivery is older, and the day after the last is still a date.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)
IDS = ("scope_id", "list_id", "mailer_id", "campaign_id", "rule_id")
# Filters that only depend on the rule: the chart can read them from the hourly counts.
RULE_FILTERS = {"level", "scope_id", "trigger", "action", "host", "rule_id", "status"}


@dataclass
class LogFilter:
    date_from: date | None = None
    date_to: date | None = None
    level: Level | None = None
    scope_id: int | None = None
    trigger: Trigger | None = None
    action: ActionType | None = None
    status: DeliveryStatus | None = None
    host: str = ""
    list_id: int | None = None
    mailer_id: int | None = None
    campaign_id: int | None = None
    rule_id: int | None = None
    contact: str = ""
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args):
        """The filter of a query string; a value that makes no sense is dropped with a message
        in `errors`, by field."""
        found, errors = cls(), {}
        for name in ("date_from", "date_to"):
            value = args.get(name, "").strip()
            if value:
                try:
                    day = date.fromisoformat(value)
                except ValueError:
                    errors[name] = "Give a date as YYYY-MM-DD."
                    continue
                if FIRST_DAY <= day <= LAST_DAY:
                    setattr(found, name, day)
                else:
                    errors[name] = f"Give a day from {FIRST_DAY} to {LAST_DAY}."
        for name, enum in ENUMS.items():
            value = args.get(name, "").strip()
            if value:
                try:
                    setattr(found, name, enum(value))
                except ValueError:
                    errors[name] = f"Choose one of: {', '.join(m.value for m in enum)}."
        for name in IDS:
            value = args.get(name, "").strip()
            if value:
                if not (value.isascii() and value.isdigit()):
                    errors[name] = "Give a number."
                elif as_id(value) is None:
                    errors[name] = f"Give a number up to {LARGEST:,}."
                else:
                    setattr(found, name, as_id(value))
        found.host = args.get("host", "").strip().lower()
        found.contact = args.get("contact", "").strip()
        if found.contact:
            try:
                typed_md5(found.contact)
            except InvalidContact as exc:
                errors["contact"] = str(exc)
                found.contact = ""
        found.errors = errors
        return found

    def args(self):
        """The filter as query-string arguments (only those set)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "errors" and value not in (None, ""):
                out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @property
    def only_rule_filters(self):
        return set(self.args()) - {"date_from", "date_to"} <= RULE_FILTERS

    def conditions(self, table):
        """SQL conditions on a table with the deliveries' columns (deliveries, counts)."""
        conditions = []
        for name in ("level", "scope_id", "trigger", "action", "status", "list_id", "mailer_id",
                     "campaign_id", "rule_id"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(table.c[name] == value)
        if self.host:
            conditions.append(table.c.host == self.host)
        if self.contact:
            # Through the contact's events (few, and indexed by contact): an index of the
            # deliveries' own copy would take a random place at every delivery's insert.
            conditions.append(table.c.event_id.in_(
                sa.select(Event.id).where(Event.contact_md5 == typed_md5(self.contact))))
        moment = table.c.hour if "hour" in table.c else table.c.created_at
        if self.date_from:
            conditions.append(moment >= start_of(self.date_from))
        if self.date_to:
            conditions.append(moment < start_of(self.date_to + timedelta(days=1)))
        return conditions


def start_of(day):
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def apply(query, table, log_filter):
    """`query` narrowed by the filter."""
    conditions = log_filter.conditions(table)
    return query.where(sa.and_(*conditions)) if conditions else query
