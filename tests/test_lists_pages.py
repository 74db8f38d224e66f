"""List Management pages: who opens what, the lists table, create and edit with the catalog's
rules beside each field, Grouped lists, delete with confirmation, and the Tracking tab."""
import re

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Channel, ListKind, OptOutList, Role, Status, Storage

ROUTES = [
    ("GET", "/lists/email/"),
    ("GET", "/lists/phone/"),
    ("GET", "/lists/email/new"),
    ("POST", "/lists/email/new"),
    ("GET", "/lists/email/{id}/edit"),
    ("POST", "/lists/email/{id}/edit"),
    ("GET", "/lists/email/{id}/contacts"),
    ("POST", "/lists/email/{id}/contacts"),
    ("POST", "/lists/email/{id}/contacts/delete"),
    ("GET", "/lists/email/{id}/tracking"),
    ("POST", "/lists/email/{id}/delete"),
]
ADMIN_ONLY = {"/lists/email/new", "/lists/email/{id}/delete"}
LIST_ROUTES = [(method, url) for method, url in ROUTES if "{id}" in url]


def _open(web, method, url, list_id):
    return web.open(url.format(id=list_id), method=method, data={"csrf_token": web.csrf})


def _cells(page, name):
    """The cells of the table row whose Name cell is `name`."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) > 1 and cells[1] == name:
            return cells
    raise AssertionError(f"no row named {name}")


def _names():
    return set(db.session.scalars(sa.select(OptOutList.name)))


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_each_role_opens_only_its_list_pages(web, make_user, make_list, method, url, role):
    user = make_user(role) if role else None
    lst = make_list(name="Mine", owner=user)
    if user:
        web.login(user)
    response = _open(web, method, url, lst.id)
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role == Role.CAMPAIGN_MANAGER or (role == Role.LIST_OWNER and url in ADMIN_ONLY):
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302)
    deleted = role == Role.GLOBAL_ADMIN and url == "/lists/email/{id}/delete"
    assert ("Mine" in _names()) != deleted


@pytest.mark.parametrize("method,url", LIST_ROUTES)
def test_a_list_owner_gets_404_for_lists_of_others(web, make_user, make_list, method, url):
    owner = make_user(Role.LIST_OWNER)
    other = make_list(name="Theirs", owner=make_user(Role.LIST_OWNER))
    web.login(owner)
    expected = 403 if url in ADMIN_ONLY else 404
    assert _open(web, method, url, other.id).status_code == expected
    assert "Theirs" in _names()


@pytest.mark.parametrize("url", ["/lists/phone/{id}/edit", "/lists/phone/{id}/contacts",
                                 "/lists/phone/{id}/tracking", "/lists/email/999999/edit"])
def test_a_list_under_another_channel_or_missing_is_404(as_admin, make_list, url):
    lst = make_list(Channel.EMAIL)
    assert as_admin.get(url.format(id=lst.id)).status_code == 404


def test_index_shows_the_lists_of_its_channel_with_their_counts(as_admin, make_user, make_list):
    owner = make_user(Role.LIST_OWNER, name="Olga Owner")
    one = make_list(name="Bounces", owner=owner, storage=Storage.MD5)
    two = make_list(name="Complaints")
    make_list(name="Grouped all", kind=ListKind.GROUPED, members=[one, two])
    make_list(Channel.PHONE, name="Do not call")
    add_contacts(one, ["a@example.com", "b@example.com"], Origin("manual"))
    add_contacts(two, ["c@example.com"], Origin("manual"))
    page = as_admin.get("/lists/email/").get_data(as_text=True)
    for text in ("Email Opt-out Lists", "Add list", "ID", "Type", "Storage", "Owner", "Status",
                 "Contacts", "Actions", "Bounces", "Olga Owner", "MD5 only", "Plain &amp; MD5",
                 "Grouped", "Active", "Edit"):
        assert text in page
    assert "Do not call" not in page
    contacts = {name: _cells(page, name)[6] for name in ("Bounces", "Complaints", "Grouped all")}
    assert contacts == {"Bounces": "2", "Complaints": "1", "Grouped all": "3"}
    assert "Do not call" in as_admin.get("/lists/phone/").get_data(as_text=True)


def test_a_list_owner_sees_only_their_lists_and_no_admin_buttons(web, make_user, make_list):
    owner = make_user(Role.LIST_OWNER)
    make_list(name="Mine", owner=owner)
    make_list(name="Theirs", owner=make_user(Role.LIST_OWNER))
    page = web.login(owner).get("/lists/email/").get_data(as_text=True)
    assert "Mine" in page and "Theirs" not in page
    assert "Add list" not in page and "Delete" not in page


def test_index_pages_by_keyset(as_admin, make_list):
    for n in range(53):
        make_list(name=f"List {n:02d}")
    first = as_admin.get("/lists/email/").get_data(as_text=True)
    assert "List 52" in first and "List 02" not in first and "Next" in first
    newest_left = db.session.scalar(sa.select(sa.func.min(OptOutList.id))) + 3
    second = as_admin.get(f"/lists/email/?after={newest_left}").get_data(as_text=True)
    assert "List 02" in second and "List 52" not in second and "Previous" in second


def test_admin_creates_a_list_with_owner_and_suppressed_domains(as_admin, make_user):
    owner = make_user(Role.LIST_OWNER)
    response = as_admin.post_form("/lists/email/new", {
        "name": " Suppressions ", "status": "active", "type": "single", "storage": "md5",
        "owner_id": str(owner.id), "suppressed_domains": "Example.COM\n@spam.example\n"})
    lst = db.session.scalar(sa.select(OptOutList).where(OptOutList.name == "Suppressions"))
    assert response.status_code == 302 and response.location.endswith(f"/lists/email/{lst.id}/edit")
    assert (lst.channel, lst.kind, lst.storage, lst.owner_id) == (
        Channel.EMAIL, ListKind.SINGLE, Storage.MD5, owner.id)
    assert lst.domains == ["example.com", "spam.example"]


@pytest.mark.parametrize("data,field_error", [
    ({"name": ""}, "This field is required."),
    ({"name": "X", "type": "triple"}, "Choose single or grouped."),
    ({"name": "X", "storage": "sha1"}, "Choose plain_md5 or md5."),
    ({"name": "X", "owner_id": "999999"}, "Choose a List Owner or Global Admin."),
    ({"name": "X", "suppressed_domains": "not a domain!"}, "Not a domain"),
    ({"name": "X", "members": ["999999"]}, "Only a Grouped list has members."),
])
def test_create_shows_the_catalogs_messages_beside_fields_and_saves_nothing(
        as_admin, data, field_error):
    form = {"status": "active", "type": "single", "storage": "plain_md5", **data}
    response = as_admin.post_form("/lists/email/new", form)
    assert response.status_code == 200
    assert field_error in response.get_data(as_text=True)
    assert 'class="field has-error"' in response.get_data(as_text=True)
    assert _names() == set()


def test_a_phone_list_has_no_suppressed_domains(as_admin, make_list):
    page = as_admin.get("/lists/phone/new").get_data(as_text=True)
    assert "Suppressed domains" not in page and "Storage" in page
    lst = make_list(Channel.PHONE)
    page = as_admin.get(f"/lists/phone/{lst.id}/edit").get_data(as_text=True)
    assert "Suppressed domains" not in page


def test_a_grouped_list_is_created_with_single_lists_of_its_channel(as_admin, make_list):
    one, two = make_list(name="One"), make_list(name="Two")
    response = as_admin.post_form("/lists/email/new", {
        "name": "Group", "status": "active", "type": "grouped", "storage": "plain_md5",
        "members": [str(one.id), str(two.id)]})
    assert response.status_code == 302
    group = db.session.scalar(sa.select(OptOutList).where(OptOutList.name == "Group"))
    assert group.is_grouped and [m.name for m in group.members] == ["One", "Two"]


@pytest.mark.parametrize("member,message", [
    ("phone", "is a list of another channel."),
    ("grouped", "is a Grouped list; members are Single lists."),
])
def test_grouped_members_must_be_single_lists_of_the_same_channel(as_admin, make_list, member,
                                                                   message):
    wrong = make_list(Channel.PHONE, name="Phones") if member == "phone" else \
        make_list(name="Inner group", kind=ListKind.GROUPED)
    response = as_admin.post_form("/lists/email/new", {
        "name": "Group", "status": "active", "type": "grouped", "storage": "plain_md5",
        "members": [str(wrong.id)]})
    assert message in response.get_data(as_text=True)
    assert "Group" not in _names()


def test_a_grouped_list_cannot_contain_itself(as_admin, make_list):
    group = make_list(name="Group", kind=ListKind.GROUPED)
    response = as_admin.post_form(f"/lists/email/{group.id}/edit", {
        "name": "Group", "status": "active", "members": [str(group.id)]})
    assert "A Grouped list cannot contain itself." in response.get_data(as_text=True)
    db.session.refresh(group)
    assert group.members == []


def test_edit_keeps_type_and_storage_fixed(as_admin, make_list):
    lst = make_list(name="Old", storage=Storage.MD5)
    page = as_admin.get(f"/lists/email/{lst.id}/edit").get_data(as_text=True)
    assert 'name="type"' not in page and 'name="storage"' not in page and "MD5 only" in page
    response = as_admin.post_form(f"/lists/email/{lst.id}/edit", {
        "name": "New", "status": "disabled", "type": "grouped", "storage": "plain_md5"})
    assert response.status_code == 302
    db.session.refresh(lst)
    assert (lst.name, lst.status, lst.kind, lst.storage) == (
        "New", Status.DISABLED, ListKind.SINGLE, Storage.MD5)


def test_a_list_owner_edits_name_status_and_domains_but_not_the_owner(web, make_user, make_list):
    owner = make_user(Role.LIST_OWNER)
    lst = make_list(name="Mine", owner=owner)
    web.login(owner)
    page = web.get(f"/lists/email/{lst.id}/edit").get_data(as_text=True)
    assert 'name="owner_id"' not in page and 'name="members"' not in page
    response = web.post_form(f"/lists/email/{lst.id}/edit", {
        "name": "Renamed", "status": "active", "suppressed_domains": "example.org",
        "owner_id": str(make_user(Role.LIST_OWNER).id)})
    assert response.status_code == 302
    db.session.refresh(lst)
    assert (lst.name, lst.domains, lst.owner_id) == ("Renamed", ["example.org"], owner.id)


def test_an_invalid_edit_changes_nothing(as_admin, make_list):
    lst = make_list(name="Kept")
    response = as_admin.post_form(f"/lists/email/{lst.id}/edit", {"name": " ", "status": "active"})
    assert "This field is required." in response.get_data(as_text=True)
    db.session.refresh(lst)
    assert lst.name == "Kept"


def test_tabs_and_the_tracking_tab(as_admin, make_list):
    single = make_list(name="Single")
    group = make_list(name="Group", kind=ListKind.GROUPED, members=[single])
    page = as_admin.get(f"/lists/email/{single.id}/edit").get_data(as_text=True)
    for href in ("edit", "contacts", "tracking"):
        assert f'href="/lists/email/{single.id}/{href}"' in page
    group_page = as_admin.get(f"/lists/email/{group.id}/edit").get_data(as_text=True)
    assert f"/lists/email/{group.id}/contacts" not in group_page
    assert f'href="/lists/email/{group.id}/tracking"' in group_page
    tracking = as_admin.get(f"/lists/email/{group.id}/tracking")
    assert tracking.status_code == 200
    html = tracking.get_data(as_text=True)
    assert "Tracking Rules" in html and f"/tracking/email_list/{group.id}/rules/new" in html


def test_delete_asks_for_confirmation_then_deletes(as_admin, make_list):
    lst = make_list(name="Unused")
    page = as_admin.get("/lists/email/").get_data(as_text=True)
    assert 'data-confirm="Delete the opt-out list Unused?"' in page
    response = as_admin.post_form(f"/lists/email/{lst.id}/delete", follow_redirects=True)
    assert "Opt-out list “Unused” deleted." in response.get_data(as_text=True)
    assert _names() == set()


def test_delete_is_refused_with_the_reason_while_the_list_is_in_use(as_admin, make_list,
                                                                   make_campaign):
    holding = make_list(name="Holding")
    add_contacts(holding, ["a@example.com"], Origin("manual"))
    member = make_list(name="Member")
    make_list(name="Group", kind=ListKind.GROUPED, members=[member])
    scrubbed = make_list(name="Scrubbed")
    make_campaign(lists=[scrubbed])
    for lst, reason in ((holding, "still holds contacts"), (member, "member of a Grouped list"),
                        (scrubbed, "A campaign is scrubbed against this list")):
        page = as_admin.post_form(f"/lists/email/{lst.id}/delete", follow_redirects=True)
        assert reason in page.get_data(as_text=True)
    assert {"Holding", "Member", "Scrubbed"} <= _names()
