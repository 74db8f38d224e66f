"""Adding and deleting contacts at the domain level: normalisation, hashing, storage, events."""
import hashlib
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from optintel.contact_changes import (ListNotWritable, Origin, add_contacts, origin_for,
                                      remove_contacts)
from optintel.extensions import db
from optintel.models import (Channel, Contact, ContactSource, Event, ListKind, ProjectSettings,
                             Storage, Trigger)
from optintel.normalize import InvalidContact, normalize_email, normalize_phone
from optintel.validation import Invalid

MANUAL = Origin(ContactSource.MANUAL)


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def contacts(opt_out_list):
    return db.session.scalars(sa.select(Contact).where(Contact.list_id == opt_out_list.id)
                              .order_by(Contact.id)).all()


def events():
    return db.session.scalars(sa.select(Event).order_by(Event.id)).all()


@pytest.mark.parametrize("raw, stored", [
    (" Jane.Doe@Example.COM ", "jane.doe@example.com"),
    ("\tUPPER@EXAMPLE.ORG\n", "upper@example.org"),
    ("plain@example.net", "plain@example.net"),
])
def test_emails_are_trimmed_and_lower_cased(make_list, raw, stored):
    opt_out_list = make_list()
    add_contacts(opt_out_list, [raw], MANUAL)
    [contact] = contacts(opt_out_list)
    assert (contact.value, contact.md5) == (stored, md5(stored))
    assert normalize_email(raw) == stored


@pytest.mark.parametrize("raw, reason", [
    ("not-an-email", "@-sign"),
    ("two@@example.com", ""),
    ("a@", "after the @-sign"),
    ("", "Empty value."),
    ("   ", "Empty value."),
    ("spaces in@example.com", ""),
])
def test_invalid_emails_are_reported_with_a_reason(make_list, raw, reason):
    opt_out_list = make_list()
    outcome = add_contacts(opt_out_list, [raw, "good@example.com"], MANUAL)
    assert outcome.changed == 1
    [report] = outcome.invalid
    assert report["value"] == raw and reason in report["error"] and report["error"]
    assert [c.value for c in contacts(opt_out_list)] == ["good@example.com"]
    with pytest.raises(InvalidContact):
        normalize_email(raw)


@pytest.mark.parametrize("region, raw, stored", [
    ("US", "(202) 555-0123", "+12025550123"),
    ("US", "202.555.0199", "+12025550199"),
    ("US", "+44 20 7946 0018", "+442079460018"),
    ("GB", "020 7946 0018", "+442079460018"),
    ("GB", "+1 202-555-0123", "+12025550123"),
])
def test_phones_are_stored_in_e164_with_the_project_region(make_list, region, raw, stored):
    ProjectSettings.get().default_phone_region = region
    db.session.commit()
    opt_out_list = make_list(Channel.PHONE)
    outcome = add_contacts(opt_out_list, [raw], MANUAL)
    assert outcome.invalid == []
    [contact] = contacts(opt_out_list)
    assert (contact.value, contact.md5) == (stored, md5(stored))


@pytest.mark.parametrize("raw", ["12345", "phone", "+1 555 000", "+999 123 456 789", ""])
def test_invalid_phones_are_reported_with_a_reason(make_list, raw):
    opt_out_list = make_list(Channel.PHONE)
    outcome = add_contacts(opt_out_list, [raw], MANUAL)
    assert [r["value"] for r in outcome.invalid] == [raw]
    assert outcome.invalid[0]["error"]
    assert contacts(opt_out_list) == [] and events() == []
    with pytest.raises(InvalidContact):
        normalize_phone(raw)


def test_non_text_values_are_invalid_not_errors(make_list):
    outcome = add_contacts(make_list(), [None, 42, ["a@example.com"]], MANUAL)
    assert (outcome.changed, len(outcome.invalid)) == (0, 3)


def test_an_added_contact_records_one_event_with_its_origin(make_list, make_mailer, make_campaign):
    opt_out_list, mailer = make_list(), make_mailer()
    campaign = make_campaign(mailers=[mailer], lists=[opt_out_list])
    outcome = add_contacts(opt_out_list, ["Ann@Example.com"],
                           Origin(ContactSource.UPLOAD, mailer.id, campaign.id))
    [event] = events()
    assert outcome.event_ids == [event.id]
    assert (event.trigger, event.channel, event.list_id, event.contact, event.contact_md5) == (
        Trigger.CONTACT_ADDED, Channel.EMAIL, opt_out_list.id, "ann@example.com",
        md5("ann@example.com"))
    assert (event.source, event.mailer_id, event.campaign_id) == (
        ContactSource.UPLOAD, mailer.id, campaign.id)
    assert event.occurred_at is not None and event.caused_by_event_id is None


def test_a_deletion_is_attributed_to_who_deleted_it_or_else_to_who_added_it(make_list, make_mailer):
    opt_out_list, adder, remover = make_list(), make_mailer(), make_mailer()
    add_contacts(opt_out_list, ["a@example.com", "b@example.com"],
                 Origin(ContactSource.API, adder.id))
    remove_contacts(opt_out_list, ["a@example.com"], Origin(ContactSource.MANUAL, remover.id))
    remove_contacts(opt_out_list, ["b@example.com"], MANUAL)
    deleted = [e for e in events() if e.trigger == Trigger.CONTACT_DELETED]
    assert [(e.contact, e.source, e.mailer_id) for e in deleted] == [
        ("a@example.com", ContactSource.MANUAL, remover.id),
        ("b@example.com", ContactSource.MANUAL, adder.id)]


@pytest.mark.parametrize("channel, raw, plain", [
    (Channel.EMAIL, " Secret@Example.com", "secret@example.com"),
    (Channel.PHONE, "(202) 555-0147", "+12025550147"),
])
def test_md5_only_lists_never_store_the_plain_value(make_list, channel, raw, plain):
    opt_out_list = make_list(channel, storage=Storage.MD5)
    add_contacts(opt_out_list, [raw], MANUAL)
    [contact] = contacts(opt_out_list)
    assert (contact.value, contact.md5) == (None, md5(plain))
    remove_contacts(opt_out_list, [raw], MANUAL)
    assert [(e.trigger, e.contact, e.contact_md5) for e in events()] == [
        (Trigger.CONTACT_ADDED, None, md5(plain)), (Trigger.CONTACT_DELETED, None, md5(plain))]
    for table in ("contacts", "events"):
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()
        assert not any(plain in str(value) for row in rows for value in row)


def test_a_grouped_list_refuses_contacts(make_list):
    member = make_list()
    group = make_list(kind=ListKind.GROUPED, members=[member])
    for change in (add_contacts, remove_contacts):
        with pytest.raises(ListNotWritable):
            change(group, ["a@example.com"], MANUAL)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert events() == [] and group.contact_count == 0


def test_repeats_in_one_request_are_added_once(make_list):
    opt_out_list = make_list()
    outcome = add_contacts(opt_out_list, ["a@example.com", " A@example.com", "a@example.com",
                                          "b@example.com"], MANUAL)
    assert (outcome.changed, outcome.unchanged) == (2, 2)
    assert len(events()) == 2


def test_re_adding_and_deleting_a_missing_contact_record_nothing(make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["a@example.com"], MANUAL)
    again = add_contacts(opt_out_list, ["A@Example.com"], MANUAL)
    missing = remove_contacts(opt_out_list, ["nobody@example.com"], MANUAL)
    assert (again.changed, again.unchanged, again.event_ids) == (0, 1, [])
    assert (missing.changed, missing.unchanged, missing.event_ids) == (0, 1, [])
    assert [e.trigger for e in events()] == [Trigger.CONTACT_ADDED]


def test_contact_count_stays_in_step(make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, [f"user{n}@example.com" for n in range(1200)], MANUAL)
    add_contacts(opt_out_list, ["user1@example.com", "new@example.com"], MANUAL)
    remove_contacts(opt_out_list, ["user2@example.com", "user3@example.com", "gone@example.com"],
                    MANUAL)
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == len(contacts(opt_out_list)) == 1199
    assert len(events()) == 1200 + 1 + 2


class EventInsertFails(Exception):
    """Raised from inside the database round trip that writes the events."""


@contextmanager
def events_cannot_be_written():
    """Within it, every INSERT INTO events fails at the database; yields the statements that ran."""
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lstrip().upper())
        if statements[-1].startswith("INSERT INTO EVENTS"):
            raise EventInsertFails(statement)
    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        with pytest.raises(EventInsertFails):
            yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)
    # What a request does after an error: the transaction is rolled back.
    db.session.rollback()


def test_no_contact_is_added_when_its_event_cannot_be_written(make_list):
    opt_out_list = make_list()
    with events_cannot_be_written() as statements:
        add_contacts(opt_out_list, ["a@example.com", "b@example.com"], MANUAL)
    assert any(s.startswith("INSERT INTO CONTACTS") for s in statements)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Contact.__table__)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(Event.__table__)) == 0
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 0


def test_no_contact_is_deleted_when_its_event_cannot_be_written(make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["a@example.com"], MANUAL)
    with events_cannot_be_written() as statements:
        remove_contacts(opt_out_list, ["a@example.com"], MANUAL)
    assert any(s.startswith("DELETE FROM CONTACTS") for s in statements)
    assert [c.value for c in contacts(opt_out_list)] == ["a@example.com"]
    assert [e.trigger for e in events()] == [Trigger.CONTACT_ADDED]
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 1


def test_origin_for_checks_mailer_and_campaign(make_list, make_mailer, make_campaign):
    opt_out_list, mailer = make_list(), make_mailer()
    email_campaign = make_campaign(lists=[opt_out_list], mailers=[mailer])
    sms_campaign = make_campaign(Channel.PHONE)
    origin = origin_for(opt_out_list, ContactSource.API, mailer.id, email_campaign.id)
    assert origin == Origin(ContactSource.API, mailer.id, email_campaign.id)
    with pytest.raises(Invalid) as refused:
        origin_for(opt_out_list, ContactSource.API, mailer.id + 100, sms_campaign.id)
    assert set(refused.value.fields) == {"mailer_id", "campaign_id"}
