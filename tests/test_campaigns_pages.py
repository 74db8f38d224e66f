"""Campaign pages: who opens what, the campaigns table, create and edit with the catalog's rules
beside each field, delete with confirmation, and the Tracking tab."""
import re

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Campaign, Channel, Role, Status

ROUTES = [
    ("GET", "/campaigns/email/"),
    ("GET", "/campaigns/phone/"),
    ("GET", "/campaigns/email/new"),
    ("POST", "/campaigns/email/new"),
    ("GET", "/campaigns/email/{id}/edit"),
    ("POST", "/campaigns/email/{id}/edit"),
    ("GET", "/campaigns/email/{id}/tracking"),
    ("POST", "/campaigns/email/{id}/delete"),
]
ADMIN_ONLY = {"/campaigns/email/new", "/campaigns/email/{id}/delete"}
CAMPAIGN_ROUTES = [(method, url) for method, url in ROUTES if "{id}" in url]


def _open(web, method, url, campaign_id):
    return web.open(url.format(id=campaign_id), method=method,
                    data={"name": "Changed", "status": "active", "csrf_token": web.csrf})


def _names():
    return set(db.session.scalars(sa.select(Campaign.name)))


@pytest.mark.parametrize("role", [None, *Role], ids=str)
@pytest.mark.parametrize("method,url", ROUTES)
def test_each_role_opens_only_its_campaign_pages(web, make_user, make_campaign, method, url, role):
    user = make_user(role) if role else None
    campaign = make_campaign(name="Mine", manager=user)
    if user:
        web.login(user)
    allowed = role == Role.GLOBAL_ADMIN or (role == Role.CAMPAIGN_MANAGER
                                            and url not in ADMIN_ONLY)
    response = _open(web, method, url, campaign.id)
    if role is None:
        assert response.status_code == 302 and response.location.startswith("/login")
    elif not allowed:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302)
    if not allowed:
        assert _names() == {"Mine"}


@pytest.mark.parametrize("method,url", CAMPAIGN_ROUTES)
def test_a_manager_gets_404_for_campaigns_of_others(web, make_user, make_campaign, method, url):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    other = make_campaign(name="Theirs", manager=make_user(Role.CAMPAIGN_MANAGER))
    web.login(manager)
    expected = 403 if url in ADMIN_ONLY else 404
    assert _open(web, method, url, other.id).status_code == expected
    assert _names() == {"Theirs"}


@pytest.mark.parametrize("url", ["/campaigns/phone/{id}/edit", "/campaigns/phone/{id}/tracking",
                                 "/campaigns/email/999999/edit"])
def test_a_campaign_under_another_channel_or_missing_is_404(as_admin, make_campaign, url):
    campaign = make_campaign(Channel.EMAIL)
    assert as_admin.get(url.format(id=campaign.id)).status_code == 404


def test_index_shows_campaigns_of_its_channel(as_admin, make_user, make_campaign, make_mailer,
                                              make_list):
    manager = make_user(Role.CAMPAIGN_MANAGER, name="Max Manager")
    make_campaign(name="Spring sale", manager=manager, mailers=[make_mailer(nickname="acme")],
                  lists=[make_list(name="Bounces")])
    make_campaign(Channel.PHONE, name="Text blast")
    page = as_admin.get("/campaigns/email/").get_data(as_text=True)
    for text in ("Email Campaigns", "Add campaign", "ID", "Name", "Status", "Manager", "Mailers",
                 "Opt-out Lists", "Actions", "Spring sale", "Max Manager", "acme", "Bounces",
                 "Active", "Edit", "Delete the campaign Spring sale?"):
        assert text in page
    assert "Text blast" not in page
    sms = as_admin.get("/campaigns/phone/").get_data(as_text=True)
    assert "SMS Campaigns" in sms and "Text blast" in sms


def test_a_manager_sees_only_their_campaigns_and_no_admin_buttons(web, make_user, make_campaign):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    make_campaign(name="Mine", manager=manager)
    make_campaign(name="Theirs", manager=make_user(Role.CAMPAIGN_MANAGER))
    page = web.login(manager).get("/campaigns/email/").get_data(as_text=True)
    assert "Mine" in page and "Theirs" not in page
    assert "Add campaign" not in page and "Delete" not in page


def test_admin_creates_a_campaign_with_mailers_lists_and_manager(as_admin, make_user, make_mailer,
                                                                 make_list):
    manager, mailer = make_user(Role.CAMPAIGN_MANAGER), make_mailer()
    phones = make_list(Channel.PHONE, name="Do not text")
    page = as_admin.get("/campaigns/phone/new").get_data(as_text=True)
    assert "Do not text" in page and "Add SMS Campaign" in page
    response = as_admin.post_form("/campaigns/phone/new", {
        "name": "Text blast", "status": "active", "manager_id": str(manager.id),
        "mailer_ids": [str(mailer.id)], "list_ids": [str(phones.id)]})
    campaign = db.session.scalar(sa.select(Campaign))
    assert response.status_code == 302
    assert response.location.endswith(f"/campaigns/phone/{campaign.id}/edit")
    assert (campaign.channel, campaign.name, campaign.manager_id) == (
        Channel.PHONE, "Text blast", manager.id)
    assert campaign.mailers == [mailer] and campaign.opt_out_lists == [phones]


@pytest.mark.parametrize("field,value,message", [
    ("name", "", "This field is required."),
    ("status", "paused", "Choose active or disabled."),
    ("manager_id", "list_owner", "Choose a Campaign Manager or Global Admin."),
    ("mailer_ids", ["999999"], "No such mailer: 999999."),
    ("list_ids", "phone list", "is not an opt-out list of this campaign&#39;s channel."),
])
def test_create_shows_the_catalogs_messages_beside_fields_and_saves_nothing(
        as_admin, make_user, make_list, field, value, message):
    if value == "list_owner":
        value = str(make_user(Role.LIST_OWNER).id)
    elif value == "phone list":
        value = [str(make_list(Channel.PHONE).id)]
    form = {"name": "Spring sale", "status": "active", field: value}
    response = as_admin.post_form("/campaigns/email/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert re.search(rf'<div class="field has-error">\s*<label for="{field}"', page)
    assert _names() == set()


def test_a_manager_edits_their_campaign_but_not_its_manager_nor_its_lists(
        web, make_user, make_campaign, make_mailer, make_list):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    campaign = make_campaign(name="Mine", manager=manager)
    mailer, lst = make_mailer(), make_list(name="Someone else's list")
    web.login(manager)
    page = web.get(f"/campaigns/email/{campaign.id}/edit").get_data(as_text=True)
    assert 'name="manager_id"' not in page and 'name="mailer_ids"' in page
    # Lists the manager may not open are neither offered nor named.
    assert 'name="list_ids"' not in page and "Someone else" not in page
    response = web.post_form(f"/campaigns/email/{campaign.id}/edit", {
        "name": "Renamed", "status": "disabled", "mailer_ids": [str(mailer.id)],
        "list_ids": [str(lst.id)], "manager_id": str(make_user(Role.CAMPAIGN_MANAGER).id)})
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert (campaign.name, campaign.status, campaign.manager_id) == (
        "Renamed", Status.DISABLED, manager.id)
    assert campaign.mailers == [mailer] and campaign.opt_out_lists == []


def test_an_invalid_edit_changes_nothing(as_admin, make_campaign, make_list):
    lst = make_list()
    campaign = make_campaign(name="Kept", lists=[lst])
    response = as_admin.post_form(f"/campaigns/email/{campaign.id}/edit", {
        "name": "", "status": "active", "list_ids": []})
    assert "This field is required." in response.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.name == "Kept" and campaign.opt_out_lists == [lst]


def test_tabs_and_the_tracking_tab(as_admin, make_campaign):
    campaign = make_campaign(Channel.PHONE)
    page = as_admin.get(f"/campaigns/phone/{campaign.id}/edit").get_data(as_text=True)
    for tail in ("edit", "tracking"):
        assert f'href="/campaigns/phone/{campaign.id}/{tail}"' in page
    tracking = as_admin.get(f"/campaigns/phone/{campaign.id}/tracking")
    assert tracking.status_code == 200
    html = tracking.get_data(as_text=True)
    assert "Tracking Rules" in html and "Add Rule" in html
    assert f"/tracking/sms_campaign/{campaign.id}/rules/new" in html


def test_delete_asks_for_confirmation_then_deletes(as_admin, make_campaign, make_mailer):
    campaign = make_campaign(name="Unused", mailers=[make_mailer()])
    page = as_admin.get("/campaigns/email/").get_data(as_text=True)
    assert 'data-confirm="Delete the campaign Unused?"' in page
    response = as_admin.post_form(f"/campaigns/email/{campaign.id}/delete", follow_redirects=True)
    assert "Campaign “Unused” deleted." in response.get_data(as_text=True)
    assert _names() == set()


def test_delete_is_refused_with_the_reason_once_the_campaign_has_events(as_admin, make_campaign,
                                                                        make_list):
    lst = make_list()
    campaign = make_campaign(name="Busy", lists=[lst])
    add_contacts(lst, ["a@example.com"], Origin("manual", campaign_id=campaign.id))
    page = as_admin.post_form(f"/campaigns/email/{campaign.id}/delete", follow_redirects=True)
    assert "The campaign has recorded events" in page.get_data(as_text=True)
    assert _names() == {"Busy"}
