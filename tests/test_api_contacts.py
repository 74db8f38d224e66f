"""Adding and removing contacts of a list in batches: /emails-add, /emails-remove, /phones-add,
/phones-remove."""
import hashlib

import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import Channel, Contact, Event, ListKind, OptOutList, Role, Storage


def md5(value):
    return hashlib.md5(value.encode()).hexdigest()


def contacts_of(opt_out_list):
    return db.session.execute(sa.select(Contact.value, Contact.md5).where(
        Contact.list_id == opt_out_list.id).order_by(Contact.id)).all()


def events():
    return db.session.scalars(sa.select(Event).order_by(Event.id)).all()


def test_add_emails_normalises_and_records_events(api, make_list, make_mailer, make_campaign):
    opt_out_list, mailer = make_list(), make_mailer()
    campaign = make_campaign(lists=[opt_out_list], mailers=[mailer])
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={
        "emails": [" Ann@Example.COM ", "bob@example.com"], "mailer_id": mailer.id,
        "campaign_id": campaign.id})
    assert response.status_code == 200
    assert response.json == {"added": 2, "existing": 0, "invalid": [], "invalid_count": 0}
    assert contacts_of(opt_out_list) == [("ann@example.com", md5("ann@example.com")),
                                         ("bob@example.com", md5("bob@example.com"))]
    assert [(e.trigger.value, e.contact, e.source.value, e.mailer_id, e.campaign_id)
            for e in events()] == [
        ("contact_added", "ann@example.com", "api", mailer.id, campaign.id),
        ("contact_added", "bob@example.com", "api", mailer.id, campaign.id)]
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 2


def test_mixed_batch_adds_the_good_values_and_reports_the_bad(api, make_list):
    opt_out_list = make_list()
    api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={"emails": ["old@example.com"]})
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={
        "emails": ["new@example.com", "OLD@example.com", "not-an-email", "", 42, None,
                   {"a": 1}, "NEW@example.com"]})
    assert response.status_code == 200
    body = response.json
    assert (body["added"], body["existing"]) == (1, 2)  # the repeat counts as existing
    assert [item["value"] for item in body["invalid"]] == ["not-an-email", "", 42, None, {"a": 1}]
    assert all(item["error"] for item in body["invalid"])
    assert body["invalid"][2]["error"] == "Not a text value."
    assert [value for value, _ in contacts_of(opt_out_list)] == ["old@example.com",
                                                                "new@example.com"]
    assert len(events()) == 2


def test_add_phones_from_national_format_to_e164(api, make_list):
    opt_out_list = make_list(channel=Channel.PHONE)
    response = api.post(f"/phone-lists/{opt_out_list.id}/phones-add", json={
        "phones": ["(650) 253-0000", "+44 20 7946 0958", "555-0100", "+16502530000"]})
    assert response.status_code == 200
    assert (response.json["added"], response.json["existing"]) == (2, 1)
    assert [item["value"] for item in response.json["invalid"]] == ["555-0100"]
    assert [value for value, _ in contacts_of(opt_out_list)] == ["+16502530000", "+442079460958"]
    assert events()[0].contact_md5 == md5("+16502530000")


def test_remove_emails(api, make_list, make_mailer):
    opt_out_list = make_list()
    mailer = make_mailer()
    api.post(f"/email-lists/{opt_out_list.id}/emails-add",
             json={"emails": ["a@example.com", "b@example.com"], "mailer_id": mailer.id})
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-remove",
                        json={"emails": ["A@example.com ", "c@example.com", "bad"]})
    assert response.status_code == 200
    assert (response.json["removed"], response.json["missing"]) == (1, 1)
    assert [item["value"] for item in response.json["invalid"]] == ["bad"]
    assert [value for value, _ in contacts_of(opt_out_list)] == ["b@example.com"]
    deleted = events()[-1]
    assert (deleted.trigger.value, deleted.contact, deleted.mailer_id) == \
        ("contact_deleted", "a@example.com", mailer.id)
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 1


def test_remove_phones(api, make_list):
    opt_out_list = make_list(channel=Channel.PHONE)
    api.post(f"/phone-lists/{opt_out_list.id}/phones-add", json={"phones": ["650-253-0000"]})
    response = api.post(f"/phone-lists/{opt_out_list.id}/phones-remove",
                        json={"phones": ["+1 650 253 0000"]})
    assert response.json == {"removed": 1, "missing": 0, "invalid": [], "invalid_count": 0}
    assert contacts_of(opt_out_list) == []


def test_md5_only_list_never_keeps_or_returns_the_plain_value(api, make_list):
    opt_out_list = make_list(storage=Storage.MD5)
    api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={"emails": ["Ann@Example.com"]})
    api.post(f"/email-lists/{opt_out_list.id}/emails-remove", json={"emails": ["ann@example.com"]})
    assert [(e.contact, e.contact_md5) for e in events()] == [(None, md5("ann@example.com"))] * 2
    items = api.get("/events").json["items"]
    assert [(item["contact"], item["contact_md5"]) for item in items] == \
        [(None, md5("ann@example.com"))] * 2
    assert api.get(f"/events/{items[0]['id']}").json["contact"] is None


@pytest.mark.parametrize("path, key", [("/email-lists/{id}/emails-add", "emails"),
                                       ("/email-lists/{id}/emails-remove", "emails")])
def test_grouped_list_is_409(api, make_list, path, key):
    group = make_list(kind=ListKind.GROUPED, members=[make_list()])
    response = api.post(path.format(id=group.id), json={key: ["a@example.com"]})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "Grouped" in response.json["error"]["message"]
    assert events() == []


@pytest.mark.parametrize("body, field", [
    ({}, "emails"), ({"emails": []}, "emails"), ({"emails": "a@example.com"}, "emails"),
    ({"emails": ["a@example.com"], "mailer_id": "acme"}, "mailer_id"),
])
def test_bad_request_body_is_422(api, make_list, body, field):
    opt_out_list = make_list()
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_unknown_mailer_or_campaign_is_422(api, make_list, make_campaign):
    opt_out_list = make_list()
    sms_campaign = make_campaign(channel=Channel.PHONE)
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={
        "emails": ["a@example.com"], "mailer_id": 999, "campaign_id": sms_campaign.id})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"mailer_id", "campaign_id"}
    assert contacts_of(opt_out_list) == [] and events() == []


def test_up_to_ten_thousand_values_a_call(api, make_list):
    opt_out_list = make_list()
    values = [f"user{n}@example.com" for n in range(10_001)]
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={"emails": values})
    assert response.status_code == 422
    assert "emails" in response.json["error"]["fields"]
    assert contacts_of(opt_out_list) == []
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add", json={"emails": values[:-1]})
    assert response.json["added"] == 10_000
    assert db.session.get(OptOutList, opt_out_list.id).contact_count == 10_000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 10_000


def test_list_owner_changes_contacts_of_own_lists_only(api_as, make_user, make_list):
    owner = make_user(Role.LIST_OWNER)
    own, other = make_list(owner=owner), make_list(owner=make_user(Role.LIST_OWNER))
    client = api_as(owner)
    assert client.post(f"/email-lists/{own.id}/emails-add",
                       json={"emails": ["a@example.com"]}).json["added"] == 1
    for path in (f"/email-lists/{other.id}/emails-add", f"/email-lists/{other.id}/emails-remove"):
        assert client.post(path, json={"emails": ["a@example.com"]}).status_code == 404
    assert contacts_of(other) == []


def test_campaign_manager_is_403(api_as, make_user, make_list):
    opt_out_list = make_list()
    client = api_as(make_user(Role.CAMPAIGN_MANAGER))
    response = client.post(f"/email-lists/{opt_out_list.id}/emails-add",
                           json={"emails": ["a@example.com"]})
    assert response.status_code == 403
    assert contacts_of(opt_out_list) == []


@pytest.mark.parametrize("path, body", [
    ("/phone-lists/{id}/phones-add", {"phones": ["650-253-0000"]}),
    ("/phone-lists/{id}/phones-remove", {"phones": ["650-253-0000"]}),
    ("/phone-lists/{id}/emails-add", {"emails": ["a@example.com"]}),
])
def test_list_of_the_other_channel_is_404(api, make_list, path, body):
    email_list = make_list(channel=Channel.EMAIL)
    assert api.post(path.format(id=email_list.id), json=body).status_code == 404
    assert events() == []
