"""Which rules fire for which events (SPEC §5): every level and trigger, by calling the
dispatcher in the test process, then a couple of cases through a real worker; and exactly one
delivery per (rule, event) however often an event is dispatched."""
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.events.outbox import hand_off
from optintel.extensions import db
from optintel.models import Channel, ContactSource, Delivery, DeliveryStatus, Event, ListKind

from conftest import fresh, wait_for

NOWHERE = {"method": "GET", "url": "http://127.0.0.1:9/never-called"}
PHONE = Channel.PHONE
counter = iter(range(1, 100_000))


def event_on(opt_out_list, mailer=None, campaign=None, trigger="added"):
    """One event on the list (a new contact, or deleting it again); returns its id."""
    origin = Origin(ContactSource.API, mailer.id if mailer else None,
                    campaign.id if campaign else None)
    value = f"+1202555{next(counter):04d}" if opt_out_list.channel == PHONE else \
        f"person{next(counter)}@example.com"
    [event_id] = add_contacts(opt_out_list, [value], origin).event_ids
    if trigger == "deleted":
        [event_id] = remove_contacts(opt_out_list, [value], origin).event_ids
    return event_id


def fired(*event_ids):
    """Dispatch the events here and now: {event id: {ids of the rules that fired}}."""
    dispatch(list(event_ids))
    rows = fresh(sa.select(Delivery).where(Delivery.event_id.in_(event_ids)))
    return {event_id: {d.rule_id for d in rows if d.event_id == event_id} for event_id in event_ids}


def rule(make_rule, level="project", scope=None, **fields):
    return make_rule("ping_url", NOWHERE, level, scope.id if scope else None, **fields)


def test_project_rules_fire_for_any_list_or_as_their_filters_say(
        make_rule, make_list, make_mailer):
    single, other, member = make_list(), make_list(), make_list()
    grouped, phones = make_list(kind=ListKind.GROUPED, members=[member]), make_list(PHONE)
    m1, m2 = make_mailer(), make_mailer()
    anything = rule(make_rule)
    on_single = rule(make_rule, trigger_settings={"contact_list_ids": [single.id]})
    on_group = rule(make_rule, trigger_settings={"contact_list_ids": [grouped.id]})
    from_m1 = rule(make_rule, trigger_settings={"mailer_ids": [m1.id]})
    single_from_m1 = rule(make_rule, trigger_settings={"contact_list_ids": [single.id],
                                                       "mailer_ids": [m1.id]})
    events = {"single via m1": event_on(single, m1), "single via m2": event_on(single, m2),
              "other, no mailer": event_on(other), "member via m1": event_on(member, m1),
              "phone via m2": event_on(phones, m2)}
    result = fired(*events.values())
    assert {name: result[event_id] for name, event_id in events.items()} == {
        "single via m1": {anything, on_single, from_m1, single_from_m1},
        "single via m2": {anything, on_single},
        # An event without a mailer does not pass a Mailers filter.
        "other, no mailer": {anything},
        # A Grouped list in the Contacts List filter matches its members' events.
        "member via m1": {anything, on_group, from_m1},
        "phone via m2": {anything},
    }


def test_campaign_rules_fire_for_events_on_the_campaigns_lists(
        make_rule, make_list, make_mailer, make_campaign):
    listed, member, unlisted = make_list(), make_list(), make_list()
    grouped = make_list(kind=ListKind.GROUPED, members=[member])
    phones, other_phones = make_list(PHONE), make_list(PHONE)
    m1, m2 = make_mailer(), make_mailer()
    email_campaign = make_campaign(mailers=[m1, m2], lists=[listed, grouped])
    sms_campaign = make_campaign(PHONE, mailers=[m1], lists=[phones])
    email_any = rule(make_rule, "email_campaign", email_campaign)
    email_m1 = rule(make_rule, "email_campaign", email_campaign,
                    trigger_settings={"mailer_ids": [m1.id]})
    sms_any = rule(make_rule, "sms_campaign", sms_campaign)
    sms_m2 = rule(make_rule, "sms_campaign", sms_campaign, trigger_settings={"mailer_ids": [m2.id]})
    events = {"listed via m1": event_on(listed, m1, email_campaign),
              "listed via m2": event_on(listed, m2),
              "listed, no mailer": event_on(listed),
              "grouped member via m1": event_on(member, m1),
              "unlisted via m1": event_on(unlisted, m1, email_campaign),
              "phones via m2": event_on(phones, m2, sms_campaign),
              "phones, no mailer": event_on(phones),
              "other phones via m2": event_on(other_phones, m2)}
    result = fired(*events.values())
    assert {name: result[event_id] for name, event_id in events.items()} == {
        "listed via m1": {email_any, email_m1},
        "listed via m2": {email_any},
        "listed, no mailer": {email_any},
        "grouped member via m1": {email_any, email_m1},
        # The campaign's lists decide, not the campaign an event names.
        "unlisted via m1": set(),
        "phones via m2": {sms_any, sms_m2},
        "phones, no mailer": {sms_any},
        "other phones via m2": set(),
    }


def test_list_rules_fire_for_their_list_and_a_grouped_lists_members(make_rule, make_list):
    single, other, member_a, member_b = make_list(), make_list(), make_list(), make_list()
    grouped = make_list(kind=ListKind.GROUPED, members=[member_a, member_b])
    phones, other_phones = make_list(PHONE), make_list(PHONE)
    on_single = rule(make_rule, "email_list", single)
    on_group = rule(make_rule, "email_list", grouped)
    on_phones = rule(make_rule, "phone_list", phones)
    events = {"single": event_on(single), "other": event_on(other),
              "member a": event_on(member_a), "member b": event_on(member_b),
              "phones": event_on(phones), "other phones": event_on(other_phones)}
    result = fired(*events.values())
    assert {name: result[event_id] for name, event_id in events.items()} == {
        "single": {on_single}, "other": set(), "member a": {on_group}, "member b": {on_group},
        "phones": {on_phones}, "other phones": set()}


def test_the_trigger_decides_between_added_and_deleted(make_rule, make_list):
    emails, phones = make_list(), make_list(PHONE)
    on_added = rule(make_rule, "email_list", emails)
    on_deleted = rule(make_rule, "email_list", emails, trigger="contact_deleted")
    project_deleted = rule(make_rule, trigger="contact_deleted")
    added, deleted = event_on(emails), event_on(emails, trigger="deleted")
    phone_deleted = event_on(phones, trigger="deleted")
    phone_added = fresh(sa.select(Event.id).where(Event.list_id == phones.id))[0]
    assert fired(added, deleted, phone_added, phone_deleted) == {
        added: {on_added}, deleted: {on_deleted, project_deleted},
        phone_added: set(), phone_deleted: {project_deleted}}


def test_disabled_rules_do_not_fire(api, make_rule, make_list):
    emails = make_list()
    active = rule(make_rule)
    rule(make_rule, status="disabled")
    disabled_later = rule(make_rule)
    first = event_on(emails)
    assert fired(first) == {first: {active, disabled_later}}
    response = api.patch(f"/tracking-rules/{disabled_later}", {"status": "disabled"})
    assert response.status_code == 200, response.json
    second = event_on(emails)
    assert fired(second) == {second: {active}}


def test_a_project_add_or_remove_rule_fires_only_for_its_target_lists_channel(
        make_rule, make_list):
    emails, email_target = make_list(), make_list()
    phones, phone_target = make_list(PHONE), make_list(PHONE)
    add_phone = make_rule("add_to_list", {"list_id": phone_target.id})
    remove_email = make_rule("remove_from_list", {"list_id": email_target.id})
    add_deleted_phone = make_rule("add_to_list", {"list_id": phone_target.id},
                                  trigger="contact_deleted")
    email_event, phone_event = event_on(emails), event_on(phones)
    phone_deleted = event_on(phones, trigger="deleted")
    email_deleted = event_on(emails, trigger="deleted")
    assert fired(email_event, phone_event, phone_deleted, email_deleted) == {
        email_event: {remove_email}, phone_event: {add_phone},
        phone_deleted: {add_deleted_phone}, email_deleted: set()}


def test_dispatching_an_event_again_creates_no_second_delivery(make_rule, make_list):
    emails = make_list()
    rules = {rule(make_rule), rule(make_rule, "email_list", emails)}
    events = [event_on(emails) for _ in range(3)]
    first = dispatch(events)
    assert len(first) == 6
    # As if a dispatch job ran twice: the events look undispatched again.
    db.session.execute(sa.update(Event).where(Event.id.in_(events)).values(dispatched_at=None))
    db.session.commit()
    assert dispatch(events) == []
    rows = fresh(sa.select(Delivery))
    assert len(rows) == 6
    assert {(d.rule_id, d.event_id) for d in rows} == {(r, e) for r in rules for e in events}
    assert fresh(sa.select(Event).where(Event.dispatched_at.is_(None))) == []


def all_settled(count):
    def done():
        rows = fresh(sa.select(Delivery))
        return len(rows) == count and all(r.status == DeliveryStatus.SUCCEEDED for r in rows)
    # Generous: a worker booting on a loaded machine takes seconds.
    return wait_for(done, 60, message=f"{count} deliveries to succeed")


def test_campaign_grouped_list_and_deleted_rules_through_a_worker(
        workers, api, http_sink, make_rule, make_list, make_mailer, make_campaign):
    workers.start(1)
    member, phones = make_list(name="Member"), make_list(PHONE)
    grouped = make_list(kind=ListKind.GROUPED, members=[member], name="Group")
    m1, m2 = make_mailer(company_name="Mailer One"), make_mailer()
    campaign = make_campaign(mailers=[m1], lists=[grouped], name="Spring")
    ping = {"method": "GET"}
    make_rule("ping_url", {**ping, "url": http_sink.url + "/campaign?c={{campaign_name}}"
                                   "&m={{mailer_name}}&l={{list_name}}"},
              "email_campaign", campaign.id, trigger_settings={"mailer_ids": [m1.id]})
    make_rule("ping_url", {**ping, "url": http_sink.url + "/group?l={{list_name}}"},
              "email_list", grouped.id)
    make_rule("ping_url", {**ping, "url": http_sink.url + "/other-mailer"},
              trigger_settings={"mailer_ids": [m2.id]})
    make_rule("ping_url", {**ping, "url": http_sink.url + "/deleted?p={{phone}}&t={{trigger}}"},
              "phone_list", phones.id, trigger="contact_deleted")
    response = api.post(f"/email-lists/{member.id}/emails-add", {
        "emails": ["a@example.com"], "mailer_id": m1.id, "campaign_id": campaign.id})
    assert response.status_code == 200
    assert api.post(f"/phone-lists/{phones.id}/phones-add",
                    {"phones": ["(202) 555-0123"]}).status_code == 200
    assert api.post(f"/phone-lists/{phones.id}/phones-remove",
                    {"phones": ["202.555.0123"]}).status_code == 200

    all_settled(3)
    assert [r.query for r in http_sink.received("/campaign")] == [
        {"c": ["Spring"], "m": ["Mailer One"], "l": ["Member"]}]
    assert [r.query for r in http_sink.received("/group")] == [{"l": ["Member"]}]
    assert [r.query for r in http_sink.received("/deleted")] == [
        {"p": ["+12025550123"], "t": ["contact_deleted"]}]
    assert http_sink.received("/other-mailer") == []

    # A dispatch job run again for the same events, by a real worker: nothing new.
    events = fresh(sa.select(Event.id))
    db.session.execute(sa.update(Event).values(dispatched_at=None))
    db.session.commit()
    assert hand_off(events)
    wait_for(lambda: not fresh(sa.select(Event.id).where(Event.dispatched_at.is_(None))),
             60, message="the events to be dispatched again")
    assert len(fresh(sa.select(Delivery))) == 3 and len(http_sink.received()) == 3
