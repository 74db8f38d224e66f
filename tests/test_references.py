"""Every object a request names inside a body or a rule's settings is checked by the access
model, as the ids of paths are: a rule's target list, a campaign's lists, a contact's mailer and
campaign, a Test Run's target; and plain contacts are shown only to Global Admins and the
list's owner, in the API as in the log."""
import pytest
import sqlalchemy as sa

from optintel import rule_test_runs
from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import Contact, Delivery, ListKind, Role, TrackingRule

SECRET_CONTACT = "hidden.person@example.com"


@pytest.fixture
def owner(make_user):
    return make_user(Role.LIST_OWNER)


@pytest.fixture
def others_list(make_user, make_list):
    """A list of another List Owner, holding a contact."""
    theirs = make_list(name="Their private list", owner=make_user(Role.LIST_OWNER))
    add_contacts(theirs, [SECRET_CONTACT], Origin("api"))
    return theirs


def target_rule(action, list_id, scope_id):
    return {"level": "email_list", "scope_id": scope_id, "trigger": "contact_added",
            "action": action, "action_settings": {"list_id": list_id}}


# ---- a rule's target list -----------------------------------------------------------------

@pytest.mark.parametrize("action", ["add_to_list", "remove_from_list"])
def test_a_list_owner_cannot_aim_a_rule_at_a_list_they_may_not_open(api_as, owner, make_list,
                                                                     others_list, action):
    mine = make_list(owner=owner)
    response = api_as(owner).post("/tracking-rules", json=target_rule(action, others_list.id,
                                                                      mine.id))
    assert response.status_code == 422
    # Refused in the words used for a list that does not exist: nothing of it is told.
    assert response.json["error"]["fields"] == {
        "action_settings.list_id": ["Choose an existing opt-out list."]}
    assert "Their private" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingRule)) == 0


def test_a_list_owner_aims_a_rule_at_another_list_of_their_own(api_as, owner, make_list):
    mine, also_mine = make_list(owner=owner), make_list(owner=owner)
    response = api_as(owner).post("/tracking-rules", json=target_rule("add_to_list",
                                                                      also_mine.id, mine.id))
    assert response.status_code == 201, response.json


def test_the_target_picker_offers_only_lists_the_user_may_open(web, owner, make_list,
                                                               others_list):
    mine = make_list(owner=owner)
    make_list(owner=owner, name="My second list")
    web.login(owner)
    page = web.htmx("POST", f"/tracking/email_list/{mine.id}/rules/new/next",
                    data={"trigger": "contact_added", "action": "add_to_list"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "My second list" in html
    assert "Their private list" not in html and f'value="{others_list.id}"' not in html


def test_the_pop_up_refuses_a_target_the_user_may_not_open(web, owner, make_list, others_list,
                                                           field_errors):
    mine = make_list(owner=owner)
    web.login(owner)
    response = web.htmx("POST", f"/tracking/email_list/{mine.id}/rules", data={
        "trigger": "contact_added", "action": "add_to_list", "list_id": str(others_list.id)})
    html = response.get_data(as_text=True)
    assert field_errors(html) == {"list_id": ["Choose an existing opt-out list."]}
    assert "Their private list" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingRule)) == 0


def _admins_rule_on(owner_list, target, make_rule):
    """An Add rule a Global Admin put on the owner's list, aimed at someone else's list."""
    return db.session.get(TrackingRule, make_rule("add_to_list", {"list_id": target.id},
                                                  "email_list", owner_list.id))


def test_the_rules_table_does_not_name_a_target_the_viewer_may_not_open(web, owner, make_list,
                                                                         others_list, make_rule):
    mine = make_list(owner=owner)
    _admins_rule_on(mine, others_list, make_rule)
    web.login(owner)
    html = web.get(f"/tracking/email_list/{mine.id}/rules").get_data(as_text=True)
    assert f"list #{others_list.id}" in html and "Their private list" not in html


def test_a_test_run_does_not_tell_whether_a_contact_is_in_a_list_the_user_may_not_open(
        owner, make_list, others_list, make_rule):
    mine = make_list(owner=owner)
    rule = _admins_rule_on(mine, others_list, make_rule)
    run = rule_test_runs.start(rule, {"contact": SECRET_CONTACT}, owner)
    run = rule_test_runs.execute(run.id)
    said = f"{run.response_body} {run.error}"
    assert "already in" not in said and "Their private list" not in said
    assert "does not exist" in run.error


def test_an_admins_test_run_of_the_same_rule_tells(admin, owner, make_list, others_list,
                                                   make_rule):
    rule = _admins_rule_on(make_list(owner=owner), others_list, make_rule)
    run = rule_test_runs.execute(rule_test_runs.start(rule, {"contact": SECRET_CONTACT},
                                                      admin).id)
    assert run.response_body == (f"Test only, nothing changed: {SECRET_CONTACT} is already in "
                                 f"Their private list.")


# ---- a campaign's lists -------------------------------------------------------------------

def test_a_manager_reads_the_lists_of_their_campaign_masked(api_as, make_user, make_campaign,
                                                           others_list, api):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    make_campaign(manager=manager, lists=[others_list])
    items = api_as(manager).get("/events").json["items"]
    assert [item["contact"] for item in items] == ["h***@example.com"]
    assert api.get("/events").json["items"][0]["contact"] == SECRET_CONTACT


def test_the_lists_owner_reads_the_contacts_in_clear(api_as, others_list):
    items = api_as(others_list.owner).get("/events").json["items"]
    assert [item["contact"] for item in items] == [SECRET_CONTACT]
    event_id = items[0]["id"]
    assert api_as(others_list.owner).get(f"/events/{event_id}").json["contact"] == SECRET_CONTACT


# ---- a contact's mailer and campaign ------------------------------------------------------

def test_a_contact_is_attributed_only_to_a_campaign_that_uses_its_list(api_as, owner, make_list,
                                                                     make_campaign, make_mailer):
    mine = make_list(owner=owner)
    mailer, unrelated = make_mailer(), make_campaign(name="Not scrubbed against it")
    other_mailer = make_mailer()
    using = make_campaign(lists=[mine], mailers=[mailer])
    client = api_as(owner)
    refused = [
        ({"campaign_id": unrelated.id}, {"campaign_id"}),
        ({"campaign_id": using.id, "mailer_id": other_mailer.id}, {"mailer_id"}),
        ({"mailer_id": other_mailer.id}, {"mailer_id"}),
    ]
    for attribution, fields in refused:
        response = client.post(f"/email-lists/{mine.id}/emails-add",
                               json={"emails": ["a@example.com"], **attribution})
        assert response.status_code == 422, attribution
        assert set(response.json["error"]["fields"]) == fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    response = client.post(f"/email-lists/{mine.id}/emails-add", json={
        "emails": ["a@example.com"], "campaign_id": using.id, "mailer_id": mailer.id})
    assert response.status_code == 200 and response.json["added"] == 1


def test_a_campaign_using_a_group_of_the_list_may_be_attributed(api, make_list, make_campaign,
                                                               make_mailer):
    member = make_list()
    group = make_list(kind=ListKind.GROUPED, members=[member])
    mailer = make_mailer()
    campaign = make_campaign(lists=[group], mailers=[mailer])
    response = api.post(f"/email-lists/{member.id}/emails-add", json={
        "emails": ["a@example.com"], "campaign_id": campaign.id, "mailer_id": mailer.id})
    assert response.status_code == 200 and response.json["added"] == 1


def test_the_contacts_page_offers_only_campaigns_of_the_list_and_their_mailers(
        web, owner, make_list, make_campaign, make_mailer):
    mine = make_list(owner=owner)
    make_campaign(name="Unrelated campaign", mailers=[make_mailer(nickname="stranger")])
    make_campaign(name="Scrubbing campaign", lists=[mine],
                  mailers=[make_mailer(nickname="partner")])
    web.login(owner)
    html = web.get(f"/lists/email/{mine.id}/contacts").get_data(as_text=True)
    assert "Scrubbing campaign" in html and "partner" in html
    assert "Unrelated campaign" not in html and "stranger" not in html


# ---- plain contacts in the log ------------------------------------------------------------

def test_the_log_and_the_api_mask_the_contact_for_a_manager(web, api_as, make_user,
                                                            make_campaign, others_list,
                                                            make_rule, http_sink):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    campaign = make_campaign(manager=manager, lists=[others_list])
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook?to={{email}}",
                           "content_type": "json", "body": '{"email": "{{email}}"}'},
              "email_campaign", campaign.id)
    event_ids = add_contacts(others_list, ["new.person@example.com"], Origin("api")).event_ids
    execute(dispatch(event_ids))
    [delivery] = db.session.scalars(sa.select(Delivery)).all()
    assert http_sink.received("/hook")[0].body == b'{"email": "new.person@example.com"}'
    web.login(manager)
    dialog = web.post_form(f"/logs/deliveries/{delivery.id}/log").get_data(as_text=True)
    detail = api_as(manager).get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    for shown in (dialog, detail):
        assert "new.person" not in shown and "new.person%40" not in shown
        assert "n***@example.com" in shown
    owners_view = api_as(others_list.owner)
    # The list's owner manages no rule of the campaign: the delivery is not theirs to see.
    assert owners_view.get(f"/deliveries/{delivery.id}").status_code == 404


def test_the_log_filters_offer_a_list_owner_only_mailers_of_their_campaigns(
        web, owner, make_list, make_campaign, make_mailer):
    mine = make_list(owner=owner)
    make_mailer(nickname="stranger")
    make_campaign(lists=[mine], mailers=[make_mailer(nickname="partner")])
    web.login(owner)
    html = web.get("/logs/").get_data(as_text=True)
    assert ">partner<" in html and "stranger" not in html
