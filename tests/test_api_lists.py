"""/api/v1/email-lists and /api/v1/phone-lists: the same code, the channel from the URL."""
import pytest

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Channel, ListKind, OptOutList, Role, Status, Storage

URLS = {Channel.EMAIL: "/email-lists", Channel.PHONE: "/phone-lists"}


@pytest.mark.parametrize("channel", list(Channel))
def test_create_answers_201_with_the_list(api, channel):
    response = api.post(URLS[channel], json={"name": " Bounces ", "storage": "md5"})
    assert response.status_code == 201
    body = response.json
    assert body["id"] and body["name"] == "Bounces"
    assert (body["type"], body["storage"], body["status"]) == ("single", "md5", "active")
    assert (body["members"], body["contact_count"], body["owner_id"]) == ([], 0, None)
    assert ("suppressed_domains" in body) == (channel == Channel.EMAIL)
    opt_out_list = db.session.get(OptOutList, body["id"])
    assert (opt_out_list.channel, opt_out_list.storage) == (channel, Storage.MD5)


def test_create_with_owner_and_suppressed_domains(api, make_user):
    owner = make_user(Role.LIST_OWNER)
    response = api.post("/email-lists", json={
        "name": "Domains", "owner_id": owner.id,
        "suppressed_domains": [" Example.COM", "@Spam.example.org"]})
    assert response.status_code == 201
    assert response.json["owner_id"] == owner.id
    assert response.json["suppressed_domains"] == ["example.com", "spam.example.org"]


def test_phone_lists_have_no_suppressed_domains(api):
    response = api.post("/phone-lists", json={"name": "P", "suppressed_domains": ["example.com"]})
    assert response.status_code == 422
    assert "suppressed_domains" in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "L", "type": "nested"}, "type"),
    ({"name": "L", "storage": "plain"}, "storage"),
    ({"name": "L", "owner_id": 999}, "owner_id"),
    ({"name": "L", "suppressed_domains": ["not a domain"]}, "suppressed_domains"),
    ({"name": "L", "members": [1]}, "members"),  # a Single list has no members
])
def test_invalid_fields_are_422(api, body, field):
    response = api.post("/email-lists", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert db.session.query(OptOutList).count() == 0


def test_owner_must_be_a_list_owner_or_admin(api, make_user):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    response = api.post("/email-lists", json={"name": "L", "owner_id": manager.id})
    assert response.json["error"]["fields"] == \
        {"owner_id": ["Choose a List Owner or Global Admin."]}


def test_grouped_list_holds_single_lists_of_its_channel(api, make_list):
    first, second = make_list(name="B"), make_list(name="A")
    response = api.post("/email-lists", json={"name": "G", "type": "grouped",
                                              "members": [first.id, second.id]})
    assert response.status_code == 201
    assert sorted(response.json["members"]) == sorted([first.id, second.id])
    assert response.json["type"] == "grouped"


@pytest.mark.parametrize("member, message", [
    ("phone", "another channel"), ("grouped", "Grouped list"), ("missing", "No such list")])
def test_grouped_list_refuses_bad_members(api, make_list, member, message):
    members = {"phone": lambda: make_list(channel=Channel.PHONE).id,
               "grouped": lambda: make_list(kind=ListKind.GROUPED).id,
               "missing": lambda: 999}
    response = api.post("/email-lists", json={"name": "G", "type": "grouped",
                                              "members": [members[member]()]})
    assert response.status_code == 422
    assert message in response.json["error"]["fields"]["members"][0]


def test_grouped_list_cannot_contain_itself(api, make_list):
    group = make_list(kind=ListKind.GROUPED)
    response = api.patch(f"/email-lists/{group.id}", json={"members": [group.id]})
    assert response.json["error"]["fields"] == \
        {"members": ["A Grouped list cannot contain itself."]}


def test_patch_changes_only_the_given_fields(api, make_list):
    opt_out_list = make_list(name="Old", suppressed_domains="a.example.org")
    response = api.patch(f"/email-lists/{opt_out_list.id}", json={"status": "disabled"})
    assert response.status_code == 200
    assert (response.json["name"], response.json["status"]) == ("Old", "disabled")
    assert response.json["suppressed_domains"] == ["a.example.org"]
    db.session.refresh(opt_out_list)
    assert opt_out_list.status == Status.DISABLED


@pytest.mark.parametrize("field, value", [("type", "grouped"), ("storage", "md5")])
def test_type_and_storage_are_fixed(api, make_list, field, value):
    opt_out_list = make_list()
    response = api.patch(f"/email-lists/{opt_out_list.id}", json={field: value})
    assert response.status_code == 422
    assert "cannot change" in response.json["error"]["fields"][field][0]


def test_list_of_the_other_channel_is_404(api, make_list):
    email_list = make_list(channel=Channel.EMAIL)
    assert api.get(f"/phone-lists/{email_list.id}").status_code == 404
    assert api.patch(f"/phone-lists/{email_list.id}", json={"name": "x"}).status_code == 404
    assert api.delete(f"/phone-lists/{email_list.id}").status_code == 404


def test_index_lists_the_channel_only(api, make_list):
    email_list, phone_list = make_list(channel=Channel.EMAIL), make_list(channel=Channel.PHONE)
    assert [row["id"] for row in api.get("/email-lists").json] == [email_list.id]
    assert [row["id"] for row in api.get("/phone-lists").json] == [phone_list.id]


def test_delete(api, make_list):
    opt_out_list = make_list()
    assert api.delete(f"/email-lists/{opt_out_list.id}").status_code == 204
    assert db.session.get(OptOutList, opt_out_list.id) is None


def test_delete_of_a_list_in_use_is_409(api, make_list, make_campaign):
    holding = make_list()
    add_contacts(holding, ["a@example.com"], Origin("api"))
    scrubbed = make_list()
    make_campaign(lists=[scrubbed])
    for opt_out_list, reason in ((holding, "holds contacts"), (scrubbed, "campaign")):
        response = api.delete(f"/email-lists/{opt_out_list.id}")
        assert response.status_code == 409
        assert reason in response.json["error"]["message"]
        assert db.session.get(OptOutList, opt_out_list.id) is not None


@pytest.fixture
def owner(make_user):
    return make_user(Role.LIST_OWNER)


@pytest.fixture
def as_owner(api_as, owner):
    return api_as(owner)


def test_list_owner_sees_only_own_lists(as_owner, owner, make_list, make_user):
    own = make_list(owner=owner)
    other = make_list(owner=make_user(Role.LIST_OWNER))
    assert [row["id"] for row in as_owner.get("/email-lists").json] == [own.id]
    assert as_owner.get(f"/email-lists/{own.id}").status_code == 200
    assert as_owner.get(f"/email-lists/{other.id}").status_code == 404
    assert as_owner.patch(f"/email-lists/{other.id}", json={"name": "Mine"}).status_code == 404


def test_list_owner_edits_name_status_and_domains(as_owner, owner, make_list):
    own = make_list(owner=owner)
    response = as_owner.patch(f"/email-lists/{own.id}", json={
        "name": "Renamed", "status": "disabled", "suppressed_domains": ["example.com"],
        "owner_id": owner.id})  # the same owner is no change
    assert response.status_code == 200
    db.session.refresh(own)
    assert (own.name, own.status, own.domains) == ("Renamed", Status.DISABLED, ["example.com"])


@pytest.mark.parametrize("change", ["owner", "members"])
def test_list_owner_cannot_change_owner_or_members(as_owner, owner, make_list, make_user, change):
    member = make_list()
    own = make_list(owner=owner, kind=ListKind.GROUPED, name="Mine")
    body = {"owner_id": make_user(Role.LIST_OWNER).id} if change == "owner" \
        else {"members": [member.id]}
    response = as_owner.patch(f"/email-lists/{own.id}", json={"name": "Changed", **body})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    db.session.refresh(own)
    assert (own.name, own.owner_id, own.members) == ("Mine", owner.id, [])


@pytest.mark.parametrize("role, method, path, status", [
    (Role.LIST_OWNER, "post", "/email-lists", 403),
    (Role.LIST_OWNER, "delete", "/email-lists/{id}", 403),
    (Role.LIST_OWNER, "post", "/phone-lists", 403),
    (Role.CAMPAIGN_MANAGER, "get", "/email-lists", 403),
    (Role.CAMPAIGN_MANAGER, "get", "/email-lists/{id}", 403),
    (Role.CAMPAIGN_MANAGER, "patch", "/email-lists/{id}", 403),
    (Role.CAMPAIGN_MANAGER, "post", "/email-lists", 403),
    (Role.CAMPAIGN_MANAGER, "delete", "/email-lists/{id}", 403),
    (Role.CAMPAIGN_MANAGER, "get", "/phone-lists", 403),
])
def test_roles_never_allowed_are_403(api_as, make_user, make_list, role, method, path, status):
    user = make_user(role)
    opt_out_list = make_list(owner=user if role == Role.LIST_OWNER else None, name="Kept")
    kwargs = {"json": {"name": "Changed"}} if method in ("post", "patch") else {}
    response = getattr(api_as(user), method)(path.format(id=opt_out_list.id), **kwargs)
    assert response.status_code == status
    assert [(row.id, row.name) for row in db.session.query(OptOutList)] == \
        [(opt_out_list.id, "Kept")]
