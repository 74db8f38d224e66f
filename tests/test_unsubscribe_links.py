"""The unsubscribe link of an email campaign and its mailers (SPEC §8, RFC 8058): the public page
and its form, one-click, tampered and disabled links, the rate limit, the links on the
campaign's page and from the API, and the event each unsubscribe fires for the rules."""
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from optintel import create_app, unsubscribe_links
from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import (Channel, Contact, ContactSource, Delivery, Event, ListKind, Role,
                             Status, Storage, Trigger)
from optintel.normalize import md5_of

ADDRESS = "ann.lee@example.com"
ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def campaign(make_campaign, make_mailer, make_list):
    """An email campaign sent by two mailers and scrubbed against one Single list."""
    return make_campaign(name="Spring Sale", lists=[make_list(name="Unsubscribes")],
                         mailers=[make_mailer(nickname="northwind",
                                              company_name="Northwind Mailing Ltd"),
                                  make_mailer(nickname="bluebird")])


def mailer_of(campaign, nickname="northwind"):
    return next(m for m in campaign.mailers if m.nickname == nickname)


def link_of(app, campaign, mailer=None, email=None):
    """The path and query of a link (of northwind unless `mailer` is given), as the app makes
    it."""
    with app.test_request_context():
        url = unsubscribe_links.url_of(campaign, mailer or mailer_of(campaign), email)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(path):
    return parse_qs(urlsplit(path).query)["t"][0]


def contacts():
    db.session.rollback()
    return db.session.scalars(sa.select(Contact).order_by(Contact.id)).all()


def events():
    db.session.rollback()
    return db.session.scalars(sa.select(Event).order_by(Event.id)).all()


def page(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return unescape(response.get_data(as_text=True))


def confirmed(response, email=ADDRESS):
    text = page(response)
    assert "You are unsubscribed" in text
    assert f"<strong>{email}</strong> will get no more messages of “Spring Sale”" in text
    return text


# ---- The page and its form -------------------------------------------------------------------

def test_the_page_names_the_campaign_and_fills_in_the_address(app, campaign):
    response = app.test_client().get(link_of(app, campaign, email=ADDRESS))
    text = page(response)
    assert "<h1>Unsubscribe from Spring Sale</h1>" in text
    assert "sent by Northwind Mailing Ltd" in text
    assert re.search(r'<input[^>]*name="email"[^>]*value="ann.lee@example.com"', text)
    assert re.search(r'<button class="primary" type="submit">Unsubscribe</button>', text)
    # A plain page: no script, no inline style, no dashboard menu, no CSRF token, no cookie.
    assert "<script" not in text and "style=" not in text and "csrf" not in text.lower()
    assert "Log out" not in text and "menu" not in text
    assert "Set-Cookie" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # Following a link (as mail filters do) changes nothing.
    assert app.test_client().head(link_of(app, campaign, email=ADDRESS)).status_code == 200
    assert contacts() == [] and events() == []


def test_the_page_escapes_what_it_shows(app, campaign):
    campaign.name = "<script>alert(1)</script>"
    db.session.commit()
    text = app.test_client().get(link_of(app, campaign)).get_data(as_text=True)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_page_of_a_link_that_names_no_address_asks_for_it(app, campaign):
    text = page(app.test_client().get(link_of(app, campaign)))
    assert re.search(r'<input[^>]*name="email"[^>]*value=""', text)


def test_the_form_adds_the_address_to_the_list_with_the_mailer_and_campaign(app, campaign):
    mailer = mailer_of(campaign, "bluebird")
    response = app.test_client().post(link_of(app, campaign, mailer),
                                      data={"email": " Ann.Lee@Example.com "})
    confirmed(response)
    [contact] = contacts()
    assert (contact.list_id, contact.value, contact.source, contact.mailer_id,
            contact.campaign_id) == (campaign.opt_out_lists[0].id, ADDRESS,
                                     ContactSource.UNSUBSCRIBE, mailer.id, campaign.id)
    [event] = events()
    assert (event.trigger, event.contact, event.source, event.mailer_id, event.campaign_id) == \
        (Trigger.CONTACT_ADDED, ADDRESS, ContactSource.UNSUBSCRIBE, mailer.id, campaign.id)
    assert "Set-Cookie" not in response.headers


def test_the_form_needs_no_csrf_token_even_with_a_session(as_admin, app, campaign):
    """The page is public: a visitor who happens to be logged in is no different."""
    confirmed(as_admin.post(link_of(app, campaign), data={"email": ADDRESS}))
    assert len(contacts()) == 1


def test_a_visitor_with_a_dashboard_cookie_gets_no_cookie_from_the_page(web, app, campaign):
    assert web.csrf  # the login page gave this browser a session cookie
    for response in (web.get(link_of(app, campaign)),
                     web.post(link_of(app, campaign), data={"email": ADDRESS}),
                     web.get("/unsubscribe?t=tampered")):
        assert response.status_code in (200, 404)
        assert "Set-Cookie" not in response.headers


def test_an_invalid_address_is_shown_beside_the_field(app, campaign, field_errors):
    text = page(app.test_client().post(link_of(app, campaign), data={"email": "ann@"}))
    assert "Unsubscribe from Spring Sale" in text
    assert field_errors(text)["email"]
    assert contacts() == [] and events() == []


def test_unsubscribing_twice_is_confirmed_the_same_way_and_fires_nothing(app, campaign):
    path, client = link_of(app, campaign, email=ADDRESS), app.test_client()
    first = confirmed(client.post(path, data={"email": ADDRESS}))
    again = confirmed(client.post(path, data={"email": "ANN.LEE@example.com"}))
    one_click = confirmed(client.post(path, data=ONE_CLICK, content_type=FORM))
    assert first == again == one_click
    assert len(contacts()) == 1 and len(events()) == 1


def test_a_form_post_that_a_browser_says_came_from_another_site_is_refused(app, campaign):
    path, client = link_of(app, campaign), app.test_client()
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://attacker.example"}):
        text = page(client.post(path, data={"email": ADDRESS}, headers=headers), 403)
        assert "Open the link itself to unsubscribe." in text
    assert contacts() == []
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
                    {"Origin": "http://localhost"}):
        confirmed(client.post(path, data={"email": ADDRESS}, headers=headers))
    # Behind a proxy that the app does not trust, the page's origin is the public address.
    app.config["OPTINTEL_PUBLIC_URL"] = "https://optouts.example.com/optintel"
    confirmed(client.post(path, data={"email": ADDRESS},
                          headers={"Origin": "https://optouts.example.com"}))
    assert client.post(path, data={"email": ADDRESS}, headers={
        "Origin": "https://optouts.example.com.attacker.example"}).status_code == 403


# ---- One-click (RFC 8058) --------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_as_rfc_8058_describes_unsubscribes_at_once(app, campaign, encoding):
    """A mailbox provider POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URI, with
    no cookie, no CSRF token and no page shown; RFC 8058 allows either form encoding."""
    path = link_of(app, campaign, email=ADDRESS)
    client = app.test_client(use_cookies=False)
    if encoding == "urlencoded":
        response = client.post(path, data=ONE_CLICK, content_type=FORM)
    else:
        response = client.post(path, data={"List-Unsubscribe": "One-Click"},
                               content_type="multipart/form-data")
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "<form" not in page(response)
    [contact] = contacts()
    assert (contact.value, contact.source, contact.mailer_id, contact.campaign_id) == \
        (ADDRESS, ContactSource.UNSUBSCRIBE, mailer_of(campaign).id, campaign.id)


def test_one_click_comes_from_servers_of_any_site(app, campaign):
    """It unsubscribes only the address that the signed link names, whoever sends it."""
    response = app.test_client().post(link_of(app, campaign, email=ADDRESS), data=ONE_CLICK,
                                      content_type=FORM, headers={"Sec-Fetch-Site": "cross-site"})
    confirmed(response)


def test_one_click_to_a_link_that_names_no_address_adds_nothing(app, campaign):
    response = app.test_client().post(link_of(app, campaign), data=ONE_CLICK, content_type=FORM)
    assert "This link names no address" in page(response, 400)
    assert contacts() == []


# ---- Links that unsubscribe no one ---------------------------------------------------------

def _tampered(app, campaign):
    """Tokens of this campaign, each changed in one way; none may be accepted."""
    good = token_of(link_of(app, campaign, email=ADDRESS))
    payload, signature = good.rsplit(".", 1)
    # The first character: all its bits are the signature's (the last one's lowest bits are
    # base64's padding, so that changing them may change nothing).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_mailer = link_of(app, campaign, mailer_of(campaign, "bluebird"), email=ADDRESS)
    forged = [URLSafeSerializer("another secret key", salt=unsubscribe_links.SALT)
              .dumps([campaign.id, mailer_of(campaign).id, ADDRESS]),
              URLSafeSerializer(app.secret_key, salt="another salt")
              .dumps([campaign.id, mailer_of(campaign).id, ADDRESS])]
    return [f"{payload}.{flipped}", token_of(other_mailer).rsplit(".", 1)[0] + "." + signature,
            payload + ".", payload, "", "not-a-token", *forged]


def test_a_tampered_or_unknown_token_is_404(app, campaign):
    client = app.test_client()
    for token in _tampered(app, campaign):
        path = f"/unsubscribe?t={token}"
        for response in (client.get(path), client.post(path, data={"email": ADDRESS}),
                         client.post(path, data=ONE_CLICK, content_type=FORM)):
            text = page(response, 404)
            assert "This unsubscribe link is not valid" in text, token
            assert "dashboard" not in text
    assert page(client.get("/unsubscribe"), 404)
    assert contacts() == []


@pytest.mark.parametrize("change", ["disabled mailer", "disabled campaign", "mailer removed",
                                    "only a Grouped list", "disabled list", "deleted mailer"])
def test_a_link_that_can_unsubscribe_no_one_is_404(app, campaign, make_list, change):
    path = link_of(app, campaign, email=ADDRESS)
    mailer = mailer_of(campaign)
    if change == "disabled mailer":
        mailer.status = Status.DISABLED
    elif change == "disabled campaign":
        campaign.status = Status.DISABLED
    elif change == "mailer removed":
        campaign.mailers.remove(mailer)
    elif change == "only a Grouped list":
        member = campaign.opt_out_lists[0]
        campaign.opt_out_lists = [make_list(kind=ListKind.GROUPED, members=[member])]
    elif change == "disabled list":
        campaign.opt_out_lists[0].status = Status.DISABLED
    else:
        campaign.mailers.remove(mailer)
        db.session.delete(mailer)
    db.session.commit()
    client = app.test_client()
    assert page(client.get(path), 404)
    assert page(client.post(path, data=ONE_CLICK, content_type=FORM), 404)
    assert contacts() == []


def test_the_address_goes_into_every_active_single_list_of_the_campaign(app, campaign,
                                                                        make_list):
    """Not into a Grouped list's members (which one would take it is not the link's to guess),
    nor into a disabled list; MD5-only lists keep the hash only."""
    plain = campaign.opt_out_lists[0]
    md5_only = make_list(name="Complaints", storage=Storage.MD5)
    member = make_list(name="Member of the group")
    group = make_list(name="Group", kind=ListKind.GROUPED, members=[member])
    disabled = make_list(name="Old", status=Status.DISABLED)
    campaign.opt_out_lists = [plain, md5_only, group, disabled]
    db.session.commit()
    # An address of this test alone: the log check looks for MD5-only contacts in every log.
    private = "quiet.reader.md5@example.org"
    confirmed(app.test_client().post(link_of(app, campaign, email=private), data=ONE_CLICK,
                                     content_type=FORM), private)
    assert {(c.list_id, c.value, c.md5) for c in contacts()} == {
        (plain.id, private, md5_of(private)), (md5_only.id, None, md5_of(private))}
    assert {e.list_id for e in events()} == {plain.id, md5_only.id}


def test_the_contact_added_event_feeds_the_campaigns_rules(app, campaign, make_rule):
    """A rule of the campaign filtered on the mailer gets a delivery; one on the other does not."""
    northwind, bluebird = mailer_of(campaign), mailer_of(campaign, "bluebird")
    rules = [make_rule("ping_url", {"method": "GET", "url": "http://127.0.0.1:9/hook"},
                       level="email_campaign", scope_id=campaign.id,
                       trigger_settings={"mailer_ids": [mailer.id]})
             for mailer in (northwind, bluebird)]
    confirmed(app.test_client().post(link_of(app, campaign, northwind, ADDRESS), data=ONE_CLICK,
                                     content_type=FORM))
    dispatch([event.id for event in events()])
    db.session.rollback()
    assert db.session.scalars(sa.select(Delivery.rule_id)).all() == [rules[0]]


# ---- The rate limit --------------------------------------------------------------------------

def test_requests_beyond_the_limit_per_address_are_429(app, campaign):
    app.config["OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS"] = "3 per minute"
    path, client = link_of(app, campaign, email=ADDRESS), app.test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    since = time.time()  # the first request counted opens the minute
    assert client.get(path, environ_base=here).status_code == 200
    assert client.get("/unsubscribe?t=tampered", environ_base=here).status_code == 404
    confirmed(client.post(path, data=ONE_CLICK, content_type=FORM, environ_base=here))
    for response in (client.get(path, environ_base=here),
                     client.post(path, data=ONE_CLICK, content_type=FORM, environ_base=here)):
        text = page(response, 429)
        seconds = int(re.search(r"try again in (\d+) seconds?", text).group(1))
        # What is left of the minute.
        assert int(since + 60 - time.time()) <= seconds <= 60, seconds
        assert int(response.headers["Retry-After"]) == seconds
    # Other addresses are not concerned.
    assert client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 200


# ---- The campaign's page ---------------------------------------------------------------------

def _link_cards(text):
    """{mailer nickname: the card of its link} of the Unsubscribe links section."""
    section = text.split('id="unsubscribe-links"', 1)[1].split("</section>", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(
        r'data-mailer="([^"]+)">(.*?)</div>\s*(?=<div class="field|<p)', section, re.S)}


def test_the_campaign_page_lists_each_mailers_link_and_the_headers(as_admin, app, campaign):
    text = page(as_admin.get(f"/campaigns/email/{campaign.id}/edit"))
    cards = _link_cards(text)
    assert set(cards) == {"northwind", "bluebird"}
    for mailer in campaign.mailers:
        url = re.search(r'<a class="link-url mono" href="([^"]+)"', cards[mailer.nickname]).group(1)
        assert url.startswith("http://localhost/unsubscribe?t=")
        assert f"List-Unsubscribe: <{url}>\nList-Unsubscribe-Post: {ONE_CLICK}" in \
            cards[mailer.nickname]
        parts = urlsplit(url)
        follow = app.test_client().get(f"{parts.path}?{parts.query}")
        assert "Unsubscribe from Spring Sale" in page(follow)
    assert "“Unsubscribes”" in text
    assert f"POST /api/v1/email-campaigns/{campaign.id}/unsubscribe-links" in text


def test_a_campaign_manager_sees_the_links_of_their_campaign(web, make_user, app, campaign):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    campaign.manager = manager
    db.session.commit()
    assert set(_link_cards(page(web.login(manager).get(
        f"/campaigns/email/{campaign.id}/edit")))) == {"northwind", "bluebird"}


def test_the_campaign_page_says_why_a_link_is_missing(as_admin, campaign, make_list):
    mailer_of(campaign, "bluebird").status = Status.DISABLED
    db.session.commit()
    cards = _link_cards(page(as_admin.get(f"/campaigns/email/{campaign.id}/edit")))
    assert "/unsubscribe?t=" in cards["northwind"]
    assert "/unsubscribe?t=" not in cards["bluebird"]
    assert "The mailer is disabled" in cards["bluebird"]

    campaign.opt_out_lists = [make_list(kind=ListKind.GROUPED,
                                        members=[campaign.opt_out_lists[0]])]
    db.session.commit()
    text = page(as_admin.get(f"/campaigns/email/{campaign.id}/edit"))
    assert "The campaign has no active Single email list to put unsubscribes in" in text
    assert "/unsubscribe?t=" not in text


def test_an_sms_campaign_has_no_unsubscribe_links(as_admin, make_campaign, make_mailer):
    sms = make_campaign(channel=Channel.PHONE, mailers=[make_mailer()])
    assert 'id="unsubscribe-links"' not in page(as_admin.get(f"/campaigns/phone/{sms.id}/edit"))


# ---- The API ---------------------------------------------------------------------------------

def _links_url(campaign):
    return f"/email-campaigns/{campaign.id}/unsubscribe-links"


def test_the_api_makes_a_link_per_recipient_in_order(api, app, campaign):
    mailer = mailer_of(campaign, "bluebird")
    response = api.post(_links_url(campaign), json={
        "mailer_id": mailer.id, "emails": ["Bob@Example.com", "not an address", ADDRESS, 7]})
    assert response.status_code == 200, response.json
    links = response.json["links"]
    assert [link["email"] for link in links] == ["Bob@Example.com", ADDRESS]
    assert [item["value"] for item in response.json["invalid"]] == ["not an address", 7]
    for link in links:
        assert link["url"].startswith("http://localhost/unsubscribe?t=")
        parts = urlsplit(link["url"])
        confirmed(app.test_client().post(f"{parts.path}?{parts.query}", data=ONE_CLICK,
                                         content_type=FORM), link["email"].lower())
    assert {(c.value, c.mailer_id) for c in contacts()} == {
        ("bob@example.com", mailer.id), (ADDRESS, mailer.id)}


def test_the_api_without_emails_gives_the_link_that_asks_for_the_address(api, app, campaign):
    response = api.post(_links_url(campaign), json={"mailer_id": mailer_of(campaign).id})
    assert response.status_code == 200
    [link] = response.json["links"]
    assert link["email"] is None
    parts = urlsplit(link["url"])
    assert re.search(r'name="email"[^>]*value=""',
                     page(app.test_client().get(f"{parts.path}?{parts.query}")))


def test_the_api_takes_up_to_ten_thousand_emails(api, campaign):
    mailer_id = mailer_of(campaign).id
    emails = [f"user{n}@example.com" for n in range(10_000)]
    response = api.post(_links_url(campaign), json={"mailer_id": mailer_id, "emails": emails})
    assert response.status_code == 200 and len(response.json["links"]) == 10_000
    response = api.post(_links_url(campaign), json={"mailer_id": mailer_id,
                                                    "emails": emails + ["one@example.com"]})
    assert response.status_code == 422 and "emails" in response.json["error"]["fields"]


def test_the_api_makes_links_only_for_a_mailer_of_the_campaign(api, campaign, make_mailer):
    response = api.post(_links_url(campaign), json={"mailer_id": make_mailer().id})
    assert response.status_code == 422
    assert "No such mailer of this campaign" in response.json["error"]["fields"]["mailer_id"][0]


@pytest.mark.parametrize("change, message", [
    ("disabled mailer", "The mailer is disabled"),
    ("disabled campaign", "The campaign is disabled"),
    ("no list", "The campaign has no active Single email list")])
def test_the_api_refuses_links_that_would_unsubscribe_no_one(api, campaign, change, message):
    if change == "disabled mailer":
        mailer_of(campaign).status = Status.DISABLED
    elif change == "disabled campaign":
        campaign.status = Status.DISABLED
    else:
        campaign.opt_out_lists = []
    db.session.commit()
    response = api.post(_links_url(campaign), json={"mailer_id": mailer_of(campaign).id})
    assert response.status_code == 409 and message in response.json["error"]["message"]


def test_whoever_may_open_the_campaign_may_make_its_links(api_as, make_user, campaign,
                                                          make_campaign):
    manager, other = make_user(Role.CAMPAIGN_MANAGER), make_user(Role.CAMPAIGN_MANAGER)
    campaign.manager = manager
    db.session.commit()
    body = {"mailer_id": mailer_of(campaign).id, "emails": [ADDRESS]}
    assert api_as(manager).post(_links_url(campaign), json=body).status_code == 200
    assert api_as(other).post(_links_url(campaign), json=body).status_code == 404
    assert api_as(make_user(Role.LIST_OWNER)).post(_links_url(campaign),
                                                   json=body).status_code == 403
    sms = make_campaign(channel=Channel.PHONE, manager=manager, mailers=campaign.mailers)
    assert api_as(manager).post(f"/email-campaigns/{sms.id}/unsubscribe-links",
                                json=body).status_code == 404


def test_the_links_endpoint_is_in_the_openapi_document(api):
    paths = api.get("/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/email-campaigns/{campaign_id}/unsubscribe-links"]


# ---- The public address ----------------------------------------------------------------------

def test_links_are_made_on_the_public_url_when_it_is_set(api, app, campaign):
    """Behind a proxy, the API's host is not the one the recipients reach."""
    app.config["OPTINTEL_PUBLIC_URL"] = "https://optouts.example.com/optintel"
    response = api.post(_links_url(campaign), json={"mailer_id": mailer_of(campaign).id,
                                                    "emails": [ADDRESS]})
    [link] = response.json["links"]
    assert link["url"].startswith("https://optouts.example.com/optintel/unsubscribe?t=")
    token = parse_qs(urlsplit(link["url"]).query)["t"][0]
    confirmed(app.test_client().post(f"/unsubscribe?t={token}", data=ONE_CLICK,
                                     content_type=FORM))


def test_a_malformed_public_url_stops_the_start(app_config):
    app_config.OPTINTEL_PUBLIC_URL = "optouts.example.com"
    with pytest.raises(ValueError, match="OPTINTEL_PUBLIC_URL must be an http:// or https://"):
        create_app(app_config)


def test_an_address_added_before_by_another_way_is_kept_as_it_was(app, campaign):
    opt_out_list = campaign.opt_out_lists[0]
    add_contacts(opt_out_list, [ADDRESS], Origin(ContactSource.MANUAL))
    confirmed(app.test_client().post(link_of(app, campaign, email=ADDRESS), data=ONE_CLICK,
                                     content_type=FORM))
    [contact] = contacts()
    assert contact.source == ContactSource.MANUAL and len(events()) == 1
