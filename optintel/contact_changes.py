"""Adding and deleting contacts of an opt-out list: each change records its event through the
outbox in the same transaction, and the events are handed to the workers after the commit."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import access
from .events import outbox
from .extensions import db
from .ids import as_id
from .models import Campaign, Contact, Mailer, OptOutList, ProjectSettings, Trigger
from .models.columns import utcnow
from .normalize import MD5_RE, InvalidContact, md5_of, normalize
from .sql import among, insert_rows
from .validation import Collector

# Values per IN (...): well under SQLite's bound-parameter limit (32,766).
CHUNK = 5000
# Rows per call of sql.insert_rows, which splits them into statements under that limit.
INSERT_CHUNK = 10_000
# What an added or deleted contact's event is made of, as tuples.
CHANGED_ROW = ("md5", "value", "mailer_id", "campaign_id")


class ListNotWritable(ValueError):
    """The list cannot hold contacts (it is Grouped)."""


@dataclass
class Outcome:
    """What one add or remove request did: changed, unchanged and invalid values."""

    changed: int = 0
    unchanged: int = 0
    invalid: list = field(default_factory=list)
    event_ids: list = field(default_factory=list)
    dispatched: bool = True


@dataclass(frozen=True)
class Origin:
    """Where a change came from, copied onto its contacts and events."""

    source: str
    mailer_id: int | None = None
    campaign_id: int | None = None
    caused_by_event_id: int | None = None
    depth: int = 0


def origin_for(opt_out_list, source, mailer_id=None, campaign_id=None, user=None):
    """An Origin attributing the change to a campaign that uses the list and a mailer of that
    campaign (access.attributable_mailers_query says which mailers `user` may name without a
    campaign; None is the command line). Invalid (fields mailer_id, campaign_id) otherwise,
    the same for an id that exists and one that does not."""
    errors = Collector()
    campaign = None
    if campaign_id is not None:
        campaign = db.session.scalar(access.campaigns_using_list_query(opt_out_list)
                                     .where(Campaign.id == campaign_id)) \
            if as_id(campaign_id) is not None else None
        if campaign is None:
            errors.add("campaign_id", f"No such {opt_out_list.channel.campaign_label} campaign: "
                                      f"{campaign_id}.")
    if mailer_id is not None and (as_id(mailer_id) is None or db.session.scalar(
            access.attributable_mailers_query(user, opt_out_list, campaign)
            .where(Mailer.id == mailer_id)) is None):
        errors.add("mailer_id", f"No such mailer: {mailer_id}.")
    errors.raise_if_any()
    return Origin(source, mailer_id, campaign_id)


def check_writable(opt_out_list):
    """ListNotWritable unless the list holds contacts itself."""
    if opt_out_list.is_grouped:
        raise ListNotWritable("A Grouped list holds no contacts itself; change one of its lists.")


def _normalized(opt_out_list, raw_values, outcome, md5s=False):
    """{md5: value} of the valid values in order, counting in-request repeats as unchanged.
    With `md5s`, a value that is an MD5 stands for its contact (value None)."""
    check_writable(opt_out_list)
    region = ProjectSettings.get().default_phone_region
    channel, wanted = opt_out_list.channel, {}
    for raw in raw_values:
        try:
            if not isinstance(raw, str):
                raise InvalidContact("Not a text value.")
            digest = raw.strip().lower() if md5s else ""
            if MD5_RE.match(digest):
                value = None
            else:
                value = normalize(channel, raw, region)
                digest = md5_of(value)
        except InvalidContact as exc:
            outcome.invalid.append({"value": raw, "error": str(exc)})
            continue
        if digest in wanted:
            outcome.unchanged += 1
        else:
            wanted[digest] = value
    return wanted


def _chunks(items, size=None):
    items, size = list(items), size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _finish(opt_out_list, delta, outcome, before_commit=None):
    """Keep the list's count in step, let `before_commit(outcome)` write its own part of the
    change (an import's cursor) in the same transaction, commit, then hand the events to the
    workers."""
    if delta:
        db.session.execute(sa.update(OptOutList.__table__)
                           .where(OptOutList.__table__.c.id == opt_out_list.id)
                           .values(contact_count=OptOutList.__table__.c.contact_count + delta))
    if before_commit is not None:
        before_commit(outcome)
    db.session.commit()
    outcome.dispatched = outbox.hand_off(outcome.event_ids)
    return outcome


def add_contacts(opt_out_list, raw_values, origin, md5s=False, before_commit=None, bulk=False):
    """Add the values to a Single list; a value already there adds nothing and fires nothing.
    With `md5s`, an MD5-only list also takes MD5s; `before_commit` as in _finish; `bulk` (a
    file's chunk) inserts in MD5 order rather than in the order given."""
    outcome = Outcome()
    wanted = _normalized(opt_out_list, raw_values, outcome, md5s and not opt_out_list.keeps_plain)
    return _add(opt_out_list, wanted, origin, outcome, before_commit, bulk)


def add_contacts_by_md5(opt_out_list, md5s, origin):
    """Add contacts known only by their MD5 to an MD5-only list."""
    if opt_out_list.keeps_plain:
        raise ListNotWritable("This list keeps plain values; an MD5 alone cannot be added to it.")
    outcome = Outcome()
    return _add(opt_out_list, _md5s(opt_out_list, md5s, outcome), origin, outcome)


def _add(opt_out_list, wanted, origin, outcome, before_commit=None, bulk=False):
    """Insert the contacts of `wanted` ({md5: value}) not yet in the list, one event per row."""
    now, keep_plain = utcnow(), opt_out_list.keeps_plain
    constants = {"list_id": opt_out_list.id, "source": origin.source, "created_at": now}
    mailer_id, campaign_id = origin.mailer_id, origin.campaign_id
    # In MD5 order, the inserts into the MD5 indexes of contacts and events land side by side:
    # half as much time again for a file's chunk of random addresses.
    for digests in _chunks(sorted(wanted) if bulk else wanted, INSERT_CHUNK):
        rows = [(d, wanted[d] if keep_plain else None, mailer_id, campaign_id) for d in digests]
        inserted = insert_rows(Contact.__table__, constants, CHANGED_ROW, rows,
                               returning=CHANGED_ROW, ignore_duplicates=True)
        outcome.changed += len(inserted)
        outcome.unchanged += len(digests) - len(inserted)
        outcome.event_ids += outbox.record(opt_out_list, Trigger.CONTACT_ADDED, inserted, origin,
                                           now)
    return _finish(opt_out_list, outcome.changed, outcome, before_commit)


def remove_contacts(opt_out_list, raw_values, origin, md5s=False, before_commit=None,
                    bulk=False):
    """Delete the values from a Single list; a value not there deletes nothing and fires nothing.
    With `md5s`, a value may also be the contact's MD5; `before_commit` and `bulk` as in
    add_contacts."""
    outcome = Outcome()
    wanted = _normalized(opt_out_list, raw_values, outcome, md5s)
    return _remove(opt_out_list, wanted, origin, outcome, before_commit, bulk)


def remove_contacts_by_md5(opt_out_list, md5s, origin):
    """Delete contacts of a Single list by their MD5, the only key an MD5-only list keeps; an MD5
    not there deletes nothing and fires nothing."""
    outcome = Outcome()
    return _remove(opt_out_list, _md5s(opt_out_list, md5s, outcome), origin, outcome)


def _md5s(opt_out_list, md5s, outcome):
    """The valid MD5s in order, lower-cased, counting in-request repeats as unchanged."""
    check_writable(opt_out_list)
    wanted = {}
    for raw in md5s:
        digest = raw.strip().lower() if isinstance(raw, str) else ""
        if not MD5_RE.match(digest):
            outcome.invalid.append({"value": raw, "error": "Not an MD5 hash."})
        elif digest in wanted:
            outcome.unchanged += 1
        else:
            wanted[digest] = None
    return wanted


def _remove(opt_out_list, wanted, origin, outcome, before_commit=None, bulk=False):
    """Delete the contacts whose MD5 is a key of `wanted`, one event per deleted row."""
    table, now = Contact.__table__, utcnow()
    for digests in _chunks(sorted(wanted) if bulk else wanted):
        stmt = (sa.delete(table).where(table.c.list_id == opt_out_list.id, among(table.c.md5, digests))
                .returning(*(table.c[name] for name in CHANGED_ROW)))
        # The deletion is attributed to whoever deleted it, where known.
        removed = [(md5, value, origin.mailer_id or mailer_id, origin.campaign_id or campaign_id)
                   for md5, value, mailer_id, campaign_id in db.session.execute(stmt)]
        outcome.changed += len(removed)
        outcome.unchanged += len(digests) - len(removed)
        outcome.event_ids += outbox.record(opt_out_list, Trigger.CONTACT_DELETED, removed, origin,
                                           now)
    return _finish(opt_out_list, -outcome.changed, outcome, before_commit)
