"""A list's Contacts tab: add and delete one contact (by form and by htmx), each change an event
with source manual; MD5-only storage; search by value or MD5; keyset pages; Grouped lists."""
import html
import re

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Channel, Contact, ContactSource, Event, ListKind, Role, Storage, Trigger
from optintel.normalize import md5_of

A_MD5 = md5_of("a@example.com")


@pytest.fixture
def app_config(app_config):
    app_config.CONTACTS_PER_PAGE = 2
    return app_config


def _events():
    events = db.session.scalars(sa.select(Event).order_by(Event.id))
    return [(e.trigger, e.contact, e.source) for e in events]


def _contacts(opt_out_list):
    return db.session.scalars(sa.select(Contact).where(Contact.list_id == opt_out_list.id)).all()


def _url(opt_out_list, tail="contacts"):
    return f"/lists/{opt_out_list.channel.value}/{opt_out_list.id}/{tail}"


def test_adding_a_contact_records_it_and_one_manual_event(as_admin, make_list):
    lst = make_list()
    response = as_admin.post_form(_url(lst), {"value": " A@Example.com "})
    assert response.status_code == 302 and response.location.endswith(_url(lst))
    page = as_admin.get(response.location).get_data(as_text=True)
    assert "Added to the list." in page and "a@example.com" in page and A_MD5 in page
    assert "1</strong> contact in this list" in page
    [contact] = _contacts(lst)
    assert (contact.value, contact.md5, contact.source) == ("a@example.com", A_MD5,
                                                            ContactSource.MANUAL)
    assert _events() == [(Trigger.CONTACT_ADDED, "a@example.com", ContactSource.MANUAL)]
    db.session.refresh(lst)
    assert lst.contact_count == 1


def test_re_adding_changes_nothing_and_records_nothing(as_admin, make_list):
    lst = make_list()
    as_admin.post_form(_url(lst), {"value": "a@example.com"})
    page = as_admin.post_form(_url(lst), {"value": "A@EXAMPLE.COM"}, follow_redirects=True)
    assert "Already in the list." in page.get_data(as_text=True)
    assert len(_contacts(lst)) == 1 and len(_events()) == 1


@pytest.mark.parametrize("channel,value", [(Channel.EMAIL, "not-an-email"),
                                           (Channel.PHONE, "12"), (Channel.EMAIL, "")])
def test_an_invalid_value_is_shown_beside_the_field_and_nothing_is_saved(as_admin, make_list,
                                                                         channel, value):
    lst = make_list(channel)
    response = as_admin.post_form(_url(lst), {"value": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="field has-error"' in page and 'role="alert"' in page
    assert _contacts(lst) == [] and _events() == []


def test_a_phone_number_is_stored_in_e164(as_admin, make_list):
    lst = make_list(Channel.PHONE)
    as_admin.post_form(_url(lst), {"value": "(201) 555-0123"})
    assert [c.value for c in _contacts(lst)] == ["+12015550123"]


def test_the_mailer_and_campaign_are_attributed(as_admin, make_list, make_mailer, make_campaign):
    lst, mailer = make_list(), make_mailer(nickname="acme")
    campaign = make_campaign(name="Spring sale", lists=[lst], mailers=[mailer])
    as_admin.post_form(_url(lst), {"value": "a@example.com", "mailer_id": str(mailer.id),
                                   "campaign_id": str(campaign.id)})
    [contact] = _contacts(lst)
    event = db.session.scalar(sa.select(Event))
    assert (contact.mailer_id, contact.campaign_id) == (mailer.id, campaign.id)
    assert (event.mailer_id, event.campaign_id) == (mailer.id, campaign.id)
    page = as_admin.get(_url(lst)).get_data(as_text=True)
    assert "acme" in page and "Spring sale" in page


def test_a_campaign_of_the_other_channel_is_refused_beside_its_field(as_admin, make_list,
                                                                    make_campaign):
    lst = make_list()
    sms = make_campaign(Channel.PHONE)
    page = as_admin.post_form(_url(lst), {"value": "a@example.com", "campaign_id": str(sms.id)})
    assert f"No such Email campaign: {sms.id}." in page.get_data(as_text=True)
    assert _contacts(lst) == [] and _events() == []


def test_htmx_add_answers_with_the_contacts_block_only(as_admin, make_list):
    lst = make_list()
    response = as_admin.htmx("POST", _url(lst), data={"value": "a@example.com"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="contacts" hx-target="this"')
    assert "<html" not in page and "Added to the list." in page and A_MD5 in page
    assert 'name="value" type="text" value=""' in page
    invalid = as_admin.htmx("POST", _url(lst), data={"value": "nope"}).get_data(as_text=True)
    assert "<html" not in invalid and 'class="field has-error"' in invalid
    assert 'value="nope"' in invalid


def test_delete_asks_for_confirmation_and_records_one_manual_event(as_admin, make_list):
    lst = make_list()
    add_contacts(lst, ["a@example.com"], Origin("api"))
    page = as_admin.get(_url(lst)).get_data(as_text=True)
    assert 'hx-confirm="Delete a@example.com from this list?"' in page
    response = as_admin.post_form(_url(lst, "contacts/delete"), {"md5": A_MD5})
    assert response.status_code == 302
    assert "Deleted from the list." in as_admin.get(response.location).get_data(as_text=True)
    assert _contacts(lst) == []
    assert _events()[-1] == (Trigger.CONTACT_DELETED, "a@example.com", ContactSource.MANUAL)
    db.session.refresh(lst)
    assert lst.contact_count == 0


@pytest.mark.parametrize("md5", [md5_of("b@example.com"), "not-an-md5", ""])
def test_deleting_a_missing_contact_records_nothing(as_admin, make_list, md5):
    lst = make_list()
    add_contacts(lst, ["a@example.com"], Origin("manual"))
    response = as_admin.post_form(_url(lst, "contacts/delete"), {"md5": md5},
                                  follow_redirects=True)
    assert "Not in the list." in response.get_data(as_text=True)
    assert len(_contacts(lst)) == 1 and len(_events()) == 1


def test_htmx_delete_answers_with_the_refreshed_block(as_admin, make_list):
    lst = make_list()
    add_contacts(lst, ["a@example.com", "b@example.com"], Origin("manual"))
    response = as_admin.htmx("POST", _url(lst, "contacts/delete"), data={"md5": A_MD5})
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<section id="contacts"') and "<html" not in page
    assert "Deleted from the list." in page and "b@example.com" in page
    assert A_MD5 not in page


def test_an_md5_only_list_never_stores_the_plain_value(as_admin, make_list):
    lst = make_list(storage=Storage.MD5)
    as_admin.post_form(_url(lst), {"value": "A@example.com"})
    [contact] = _contacts(lst)
    event = db.session.scalar(sa.select(Event))
    assert (contact.value, contact.md5) == (None, A_MD5)
    assert (event.contact, event.contact_md5) == (None, A_MD5)
    page = as_admin.get(_url(lst)).get_data(as_text=True)
    assert "MD5 only" in page and "a@example.com" not in page
    for query in ("a@example.com", A_MD5.upper()):
        found = as_admin.get(_url(lst), query_string={"q": query}).get_data(as_text=True)
        assert f'<td class="mono">{A_MD5}</td>' in found, query
    as_admin.post_form(_url(lst, "contacts/delete"), {"md5": A_MD5})
    assert _contacts(lst) == []
    assert _events()[-1] == (Trigger.CONTACT_DELETED, None, ContactSource.MANUAL)


def test_search_finds_the_exact_value_only(as_admin, make_list):
    lst = make_list()
    add_contacts(lst, ["a@example.com", "ab@example.com"], Origin("manual"))
    page = as_admin.get(_url(lst), query_string={"q": " A@Example.com "}).get_data(as_text=True)
    assert f'<td class="mono">{A_MD5}</td>' in page and "ab@example.com" not in page
    missing = as_admin.get(_url(lst), query_string={"q": "zz@example.com"}).get_data(as_text=True)
    assert "No contact matches." in missing and "a@example.com</td>" not in missing
    invalid = as_admin.get(_url(lst), query_string={"q": "not an email"}).get_data(as_text=True)
    assert 'class="field has-error"' in invalid and "No contact matches." in invalid


def test_htmx_search_answers_with_the_block(as_admin, make_list):
    lst = make_list()
    add_contacts(lst, ["a@example.com", "b@example.com"], Origin("manual"))
    response = as_admin.htmx("GET", _url(lst), query_string={"q": "b@example.com"})
    page = response.get_data(as_text=True)
    assert "<html" not in page and "b@example.com</td>" in page and "a@example.com</td>" not in page


def test_contacts_are_paged_newest_first(as_admin, make_list):
    lst = make_list()
    for n in range(5):
        add_contacts(lst, [f"c{n}@example.com"], Origin("manual"))
    seen, url = [], _url(lst)
    while url:
        page = as_admin.get(url).get_data(as_text=True)
        assert "5</strong> contacts in this list" in page
        seen += sorted((n for n in range(5) if f"c{n}@example.com</td>" in page),
                       key=lambda n: page.index(f"c{n}@example.com</td>"))
        next_link = re.search(r'<a href="([^"]+)">Next →</a>', page)
        url = html.unescape(next_link.group(1)) if next_link else None
    assert seen == [4, 3, 2, 1, 0]


def test_a_grouped_list_holds_no_contacts(as_admin, make_list):
    member = make_list(name="Member list")
    group = make_list(name="Group", kind=ListKind.GROUPED, members=[member])
    page = as_admin.get(_url(group)).get_data(as_text=True)
    assert "A Grouped list holds no contacts itself" in page
    assert f'href="{_url(member)}"' in page and 'name="value"' not in page
    response = as_admin.post_form(_url(group), {"value": "a@example.com"})
    assert "A Grouped list holds no contacts itself; change one of its lists." in \
        response.get_data(as_text=True)
    assert _contacts(group) == [] and _events() == []


@pytest.mark.parametrize("method,tail", [("GET", "contacts"), ("POST", "contacts"),
                                         ("POST", "contacts/delete")])
@pytest.mark.parametrize("role", [None, *Role], ids=str)
def test_only_admins_and_the_lists_owner_change_its_contacts(web, make_user, make_list, method,
                                                             tail, role):
    user = make_user(role) if role else None
    mine = make_list(owner=user)
    theirs = make_list(owner=make_user(Role.LIST_OWNER))
    add_contacts(theirs, ["a@example.com"], Origin("manual"))
    if user:
        web.login(user)
    for lst, value in ((mine, "new@example.com"), (theirs, "a@example.com")):
        response = web.open(_url(lst, tail), method=method,
                            data={"value": value, "md5": A_MD5, "csrf_token": web.csrf})
        if role is None:
            assert response.status_code == 302 and response.location.startswith("/login")
        elif role == Role.CAMPAIGN_MANAGER:
            assert response.status_code == 403
        elif role == Role.LIST_OWNER and lst is theirs:
            assert response.status_code == 404
        else:
            assert response.status_code in (200, 302)
    changed = method == "POST" and (role == Role.GLOBAL_ADMIN or
                                    (role == Role.LIST_OWNER and tail == "contacts"))
    assert (len(_events()) > 1) == changed
