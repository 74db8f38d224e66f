"""/api/v1/email-campaigns and /api/v1/sms-campaigns: the same code, the channel from the URL."""
import pytest

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Campaign, Channel, Role, Status

URLS = {Channel.EMAIL: "/email-campaigns", Channel.PHONE: "/sms-campaigns"}


@pytest.mark.parametrize("channel", list(Channel))
def test_create_answers_201_with_the_campaign(api, make_mailer, make_list, channel):
    mailer, opt_out_list = make_mailer(), make_list(channel=channel)
    response = api.post(URLS[channel], json={"name": "Spring", "mailer_ids": [mailer.id],
                                             "list_ids": [opt_out_list.id]})
    assert response.status_code == 201
    body = response.json
    assert body["id"] and (body["name"], body["status"]) == ("Spring", "active")
    assert (body["mailer_ids"], body["list_ids"], body["manager_id"]) == \
        ([mailer.id], [opt_out_list.id], None)
    campaign = db.session.get(Campaign, body["id"])
    assert (campaign.channel, campaign.mailers, campaign.opt_out_lists) == \
        (channel, [mailer], [opt_out_list])


def test_create_with_a_manager(api, make_user):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    response = api.post("/email-campaigns", json={"name": "C", "manager_id": manager.id})
    assert (response.status_code, response.json["manager_id"]) == (201, manager.id)


@pytest.mark.parametrize("body, field, message", [
    ({"name": " "}, "name", "This field is required."),
    ({"name": "C", "list_ids": "phone"}, "list_ids", "is not an opt-out list of this campaign's"),
    ({"name": "C", "list_ids": [999]}, "list_ids", "No such list: 999."),
    ({"name": "C", "mailer_ids": [999]}, "mailer_ids", "No such mailer: 999."),
    ({"name": "C", "manager_id": "owner"}, "manager_id", "Choose a Campaign Manager"),
    ({"name": "C", "status": "on"}, "status", "Must be one of"),
])
def test_invalid_fields_are_422(api, make_list, make_user, body, field, message):
    if body.get("list_ids") == "phone":
        body = {**body, "list_ids": [make_list(channel=Channel.PHONE).id]}
    if body.get("manager_id") == "owner":
        body = {**body, "manager_id": make_user(Role.LIST_OWNER).id}
    response = api.post("/email-campaigns", json=body)
    assert response.status_code == 422
    assert message in response.json["error"]["fields"][field][0]
    assert db.session.query(Campaign).count() == 0


def test_patch_changes_only_the_given_fields(api, make_campaign, make_mailer, make_list):
    opt_out_list = make_list()
    campaign = make_campaign(name="Old", lists=[opt_out_list])
    mailer = make_mailer()
    response = api.patch(f"/email-campaigns/{campaign.id}", json={"mailer_ids": [mailer.id]})
    assert response.status_code == 200
    assert (response.json["name"], response.json["mailer_ids"], response.json["list_ids"]) == \
        ("Old", [mailer.id], [opt_out_list.id])


def test_campaign_of_the_other_channel_is_404(api, make_campaign):
    campaign = make_campaign(channel=Channel.EMAIL)
    assert api.get(f"/sms-campaigns/{campaign.id}").status_code == 404
    assert api.delete(f"/sms-campaigns/{campaign.id}").status_code == 404
    assert [row["id"] for row in api.get("/sms-campaigns").json] == []
    assert [row["id"] for row in api.get("/email-campaigns").json] == [campaign.id]


def test_delete(api, make_campaign):
    campaign = make_campaign()
    assert api.delete(f"/email-campaigns/{campaign.id}").status_code == 204
    assert db.session.get(Campaign, campaign.id) is None


def test_delete_of_a_campaign_with_history_is_409(api, make_campaign, make_list):
    opt_out_list = make_list()
    campaign = make_campaign(lists=[opt_out_list])
    add_contacts(opt_out_list, ["a@example.com"], Origin("api", campaign_id=campaign.id))
    response = api.delete(f"/email-campaigns/{campaign.id}")
    assert response.status_code == 409
    assert "recorded events" in response.json["error"]["message"]


@pytest.fixture
def manager(make_user):
    return make_user(Role.CAMPAIGN_MANAGER)


@pytest.fixture
def as_manager(api_as, manager):
    return api_as(manager)


def test_manager_sees_only_own_campaigns(as_manager, manager, make_campaign, make_user):
    own = make_campaign(manager=manager)
    other = make_campaign(manager=make_user(Role.CAMPAIGN_MANAGER))
    assert [row["id"] for row in as_manager.get("/email-campaigns").json] == [own.id]
    assert as_manager.get(f"/email-campaigns/{own.id}").status_code == 200
    assert as_manager.get(f"/email-campaigns/{other.id}").status_code == 404
    assert as_manager.patch(f"/email-campaigns/{other.id}", json={"name": "x"}).status_code == 404


def test_manager_edits_all_but_the_manager_and_the_lists(as_manager, manager, make_campaign,
                                                         make_mailer, make_list):
    opt_out_list = make_list()
    own = make_campaign(manager=manager, name="Old", lists=[opt_out_list])
    mailer = make_mailer()
    response = as_manager.patch(f"/email-campaigns/{own.id}", json={
        "name": "New", "status": "disabled", "mailer_ids": [mailer.id],
        # The same manager and the same lists are no change.
        "list_ids": [opt_out_list.id], "manager_id": manager.id})
    assert response.status_code == 200
    db.session.refresh(own)
    assert (own.name, own.status, own.mailers, own.opt_out_lists) == \
        ("New", Status.DISABLED, [mailer], [opt_out_list])


def test_manager_cannot_attach_a_list_and_read_its_events(as_manager, manager, make_campaign,
                                                          make_list, make_user):
    """A manager who could attach another owner's list would read its contacts through /events."""
    own = make_campaign(manager=manager, name="Old")
    theirs = make_list(owner=make_user(Role.LIST_OWNER))
    add_contacts(theirs, ["secret.person@example.com"], Origin("api"))
    response = as_manager.patch(f"/email-campaigns/{own.id}", json={"list_ids": [theirs.id]})
    assert response.status_code == 403
    assert "lists of a campaign" in response.json["error"]["message"]
    db.session.refresh(own)
    assert own.opt_out_lists == []
    assert as_manager.get("/events").json["items"] == []


def test_manager_cannot_hand_the_campaign_over(as_manager, manager, make_campaign, make_user):
    own = make_campaign(manager=manager, name="Old")
    response = as_manager.patch(f"/email-campaigns/{own.id}", json={
        "name": "New", "manager_id": make_user(Role.CAMPAIGN_MANAGER).id})
    assert response.status_code == 403
    db.session.refresh(own)
    assert (own.name, own.manager_id) == ("Old", manager.id)


def test_admin_changes_the_manager(api, manager, make_campaign):
    campaign = make_campaign()
    response = api.patch(f"/email-campaigns/{campaign.id}", json={"manager_id": manager.id})
    assert (response.status_code, response.json["manager_id"]) == (200, manager.id)


@pytest.mark.parametrize("role, method, path", [
    (Role.CAMPAIGN_MANAGER, "post", "/email-campaigns"),
    (Role.CAMPAIGN_MANAGER, "post", "/sms-campaigns"),
    (Role.CAMPAIGN_MANAGER, "delete", "/email-campaigns/{id}"),
    (Role.LIST_OWNER, "get", "/email-campaigns"),
    (Role.LIST_OWNER, "get", "/sms-campaigns"),
    (Role.LIST_OWNER, "get", "/email-campaigns/{id}"),
    (Role.LIST_OWNER, "patch", "/email-campaigns/{id}"),
    (Role.LIST_OWNER, "delete", "/email-campaigns/{id}"),
])
def test_roles_never_allowed_are_403(api_as, make_user, make_campaign, role, method, path):
    user = make_user(role)
    campaign = make_campaign(manager=user if role == Role.CAMPAIGN_MANAGER else None, name="Kept")
    kwargs = {"json": {"name": "Changed"}} if method in ("post", "patch") else {}
    response = getattr(api_as(user), method)(path.format(id=campaign.id), **kwargs)
    assert response.status_code == 403
    assert [(row.id, row.name) for row in db.session.query(Campaign)] == [(campaign.id, "Kept")]
