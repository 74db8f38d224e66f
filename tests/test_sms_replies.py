"""STOP replies to SMS campaigns (SPEC §8): the inbound-message webhook in Twilio's format and
signature (requests signed here by the `twilio` library's own RequestValidator logic), the
keywords, START, repeated MessageSids, the rate limit of refused requests, and the campaign's
auth token (write-only in the API and on the page) and webhook URL; `flask demo sms-reply`
against a real HTTP server on loopback."""
import re
import threading
from html import unescape

import pytest
import sqlalchemy as sa
from twilio.request_validator import HMAC_SHA256, RequestValidator
from werkzeug.serving import make_server

from optintel import secrets, sms_replies
from optintel.catalog import apply_campaign
from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import (Campaign, Channel, Contact, ContactSource, Event, ListKind, Role,
                             SmsReply, Status, Trigger)

TOKEN = "twilio-auth-token-0123456789abcdef"
NUMBER = "+12025550147"
REPLIES = iter(range(1, 1_000_000))


@pytest.fixture
def campaign(make_campaign, make_mailer, make_list):
    """An SMS campaign of one mailer, scrubbed against one phone list, with an auth token."""
    campaign = make_campaign(channel=Channel.PHONE, name="Appointment Reminders",
                             mailers=[make_mailer(nickname="harbor")],
                             lists=[make_list(channel=Channel.PHONE, name="STOP replies")])
    apply_campaign(campaign, name=campaign.name, sms_auth_token=TOKEN)
    db.session.commit()
    return campaign


def message(body, sender=NUMBER, sid=None):
    """The form fields Twilio posts for an inbound SMS."""
    return {"MessageSid": sid or f"SM{next(REPLIES):032x}", "AccountSid": "AC" + "0" * 32,
            "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}


def signature(url, params, token=TOKEN, algorithm=None):
    return RequestValidator(token).compute_signature(url, params, algorithm)


def post(app, campaign_id, params, token=TOKEN, url=None, headers=None, **kwargs):
    """POST the params as Twilio does, signed for `url` (the webhook's own by default)."""
    path = f"/sms/{campaign_id}/inbound"
    signed_url = url or f"http://localhost{path}"
    headers = {"X-Twilio-Signature": signature(signed_url, params, token), **(headers or {})}
    return app.test_client(use_cookies=False).post(path, data=params, headers=headers, **kwargs)


def twiml(response):
    """The body of an accepted request: an empty TwiML response, as text/xml."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert re.fullmatch(r'<\?xml version="1.0" encoding="UTF-8"\?><Response ?/>', body), body
    return body


def numbers():
    db.session.rollback()
    return [(c.list_id, c.value, c.source, c.mailer_id, c.campaign_id)
            for c in db.session.scalars(sa.select(Contact).order_by(Contact.id))]


def events():
    db.session.rollback()
    return db.session.scalars(sa.select(Event).order_by(Event.id)).all()


# ---- The keywords ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe!", "Cancel",
                                  "END", "quit", "Revoke", "OptOut", "\n¡STOP!\n", "stop 🙏"])
def test_the_opt_out_keywords(body):
    assert sms_replies.keyword(body) == sms_replies.STOP


@pytest.mark.parametrize("body", ["START", "unstop", " Yes! "])
def test_the_opt_in_keywords(body):
    assert sms_replies.keyword(body) == sms_replies.START


@pytest.mark.parametrize("body", ["", "   ", "Please stop", "STOP ALL", "stopp", "no", "help",
                                  "stop it", "Y", None])
def test_anything_else_is_no_keyword(body):
    assert sms_replies.keyword(body) is None


# ---- The webhook -----------------------------------------------------------------------------

def test_stop_adds_the_sender_in_e164_with_the_campaign_and_its_mailer(app, campaign):
    [phone_list], [mailer] = campaign.opt_out_lists, campaign.mailers
    twiml(post(app, campaign.id, message("Stop", sender="+1 (202) 555-0147")))
    assert numbers() == [(phone_list.id, NUMBER, ContactSource.SMS_REPLY, mailer.id, campaign.id)]
    [event] = events()
    assert (event.trigger, event.contact, event.source, event.mailer_id, event.campaign_id) == \
        (Trigger.CONTACT_ADDED, NUMBER, ContactSource.SMS_REPLY, mailer.id, campaign.id)


def test_start_deletes_it_again(app, campaign):
    twiml(post(app, campaign.id, message("STOP")))
    twiml(post(app, campaign.id, message("start")))
    assert numbers() == []
    added, deleted = events()
    assert (deleted.trigger, deleted.contact, deleted.source, deleted.campaign_id) == \
        (Trigger.CONTACT_DELETED, NUMBER, ContactSource.SMS_REPLY, campaign.id)
    twiml(post(app, campaign.id, message("UNSTOP")))  # not there: nothing more
    assert len(events()) == 2


def test_start_keeps_a_number_that_was_put_in_the_list_another_way(app, campaign, make_list):
    """A number on a do-not-call list by a person's decision stays there."""
    by_hand = campaign.opt_out_lists[0]
    replies = make_list(channel=Channel.PHONE, name="Replies")
    campaign.opt_out_lists = [by_hand, replies]
    db.session.commit()
    add_contacts(by_hand, [NUMBER], Origin(ContactSource.MANUAL))
    twiml(post(app, campaign.id, message("STOP")))
    assert {row[:3] for row in numbers()} == {(by_hand.id, NUMBER, ContactSource.MANUAL),
                                              (replies.id, NUMBER, ContactSource.SMS_REPLY)}
    twiml(post(app, campaign.id, message("YES")))
    assert [row[:3] for row in numbers()] == [(by_hand.id, NUMBER, ContactSource.MANUAL)]


def test_anything_else_changes_nothing(app, campaign):
    for body in ("Thanks, see you Tuesday", "stop it", ""):
        twiml(post(app, campaign.id, message(body)))
    twiml(post(app, campaign.id, message("STOP", sender="not a number")))
    assert numbers() == [] and events() == []


def test_the_same_message_sid_twice_changes_nothing_the_second_time(app, campaign):
    stop = message("STOP")
    twiml(post(app, campaign.id, stop))
    twiml(post(app, campaign.id, stop))
    twiml(post(app, campaign.id, {**message("START"), "MessageSid": stop["MessageSid"]}))
    assert len(numbers()) == 1 and len(events()) == 1
    db.session.rollback()
    assert db.session.scalars(sa.select(SmsReply.message_sid)).all() == [stop["MessageSid"]]


def test_the_sender_goes_into_the_active_single_phone_lists(app, campaign, make_list):
    single = campaign.opt_out_lists[0]
    member = make_list(channel=Channel.PHONE)
    campaign.opt_out_lists = [single, make_list(channel=Channel.PHONE, kind=ListKind.GROUPED,
                                                members=[member]),
                              make_list(channel=Channel.PHONE, status=Status.DISABLED)]
    db.session.commit()
    twiml(post(app, campaign.id, message("STOP")))
    assert [row[0] for row in numbers()] == [single.id]


def test_a_campaign_of_several_mailers_does_not_guess_the_mailer(app, campaign, make_mailer):
    other = make_mailer()
    campaign.mailers.append(other)
    db.session.commit()
    twiml(post(app, campaign.id, message("STOP")))
    assert [row[3:] for row in numbers()] == [(None, campaign.id)]


@pytest.mark.parametrize("forgery", ["wrong token", "no signature", "another url",
                                     "changed body", "no token stored", "garbage"])
def test_a_request_not_signed_by_twilio_is_403(app, campaign, make_campaign, forgery):
    params, kwargs = message("STOP"), {}
    if forgery == "wrong token":
        kwargs["token"] = "another-auth-token"
    elif forgery == "another url":
        other = make_campaign(channel=Channel.PHONE)
        kwargs["url"] = f"http://localhost/sms/{other.id}/inbound"
    elif forgery == "no token stored":
        apply_campaign(campaign, name=campaign.name, sms_auth_token="")
        db.session.commit()
    path = f"/sms/{campaign.id}/inbound"
    if forgery == "changed body":
        headers = {"X-Twilio-Signature": signature(f"http://localhost{path}", params)}
        params = {**params, "From": "+12025550199"}
        response = app.test_client().post(path, data=params, headers=headers)
    elif forgery in ("no signature", "garbage"):
        headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"} if forgery == "garbage" else {}
        response = app.test_client().post(path, data=params, headers=headers)
    else:
        response = post(app, campaign.id, params, **kwargs)
    assert response.status_code == 403
    assert numbers() == [] and events() == []
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsReply)) == 0


def test_an_hmac_sha256_signature_named_by_twilios_settings_header_is_accepted(app, campaign):
    params = message("STOP")
    url = f"http://localhost/sms/{campaign.id}/inbound"
    response = app.test_client().post(f"/sms/{campaign.id}/inbound", data=params, headers={
        "X-Twilio-Signature": signature(url, params, algorithm=HMAC_SHA256),
        "X-Twilio-Webhooks-Signature-Settings":
            f"key=webhooks_sharedkey_1,algorithm={HMAC_SHA256}"})
    twiml(response)
    assert len(numbers()) == 1


def test_the_signature_is_checked_against_the_public_url_when_it_is_set(app, campaign):
    """Behind a proxy Twilio calls the public address, not the one the app sees."""
    app.config["OPTINTEL_PUBLIC_URL"] = "https://optouts.example.com"
    public = f"https://optouts.example.com/sms/{campaign.id}/inbound"
    assert post(app, campaign.id, message("STOP")).status_code == 403
    twiml(post(app, campaign.id, message("STOP", sid="SM" + "a" * 32), url=public))
    # A query string that Twilio was given is part of what it signed.
    params = message("START")
    response = app.test_client().post(
        f"/sms/{campaign.id}/inbound?source=twilio", data=params,
        headers={"X-Twilio-Signature": signature(public + "?source=twilio", params)})
    twiml(response)
    assert numbers() == []


@pytest.mark.parametrize("case", ["unknown", "email campaign", "disabled"])
def test_no_active_sms_campaign_is_404(app, campaign, make_campaign, case):
    campaign_id = {"unknown": campaign.id + 100,
                   "email campaign": make_campaign(channel=Channel.EMAIL).id}.get(case)
    if case == "disabled":
        campaign.status, campaign_id = Status.DISABLED, campaign.id
        db.session.commit()
    assert post(app, campaign_id, message("STOP")).status_code == 404
    assert numbers() == []


def test_a_signed_request_without_message_sid_is_400(app, campaign):
    params = message("STOP")
    del params["MessageSid"]
    assert post(app, campaign.id, params).status_code == 400
    assert numbers() == []


def test_refused_requests_beyond_the_limit_per_address_are_429(app, campaign):
    """Only refused requests count: Twilio's own are never held back."""
    app.config["OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS"] = "2 per minute"
    here, there = {"REMOTE_ADDR": "203.0.113.5"}, {"REMOTE_ADDR": "203.0.113.6"}
    for _ in range(4):
        twiml(post(app, campaign.id, message("hello"), environ_base=here))
    for _ in range(2):
        assert post(app, campaign.id, message("STOP"), token="guess",
                    environ_base=here).status_code == 403
    response = post(app, campaign.id, message("STOP"), environ_base=here)
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
    twiml(post(app, campaign.id, message("STOP"), environ_base=there))


# ---- The auth token and the webhook URL in the API and on the page ------------------------

def test_the_api_takes_the_auth_token_and_never_shows_it(api, make_list):
    phone_list = make_list(channel=Channel.PHONE)
    created = api.post("/sms-campaigns", json={"name": "Reminders", "list_ids": [phone_list.id],
                                               "sms_auth_token": TOKEN})
    assert created.status_code == 201, created.json
    campaign_id = created.json["id"]
    assert created.json["sms_auth_token"] == "********"
    assert created.json["sms_webhook_url"] == f"http://localhost/sms/{campaign_id}/inbound"
    stored = db.session.get(Campaign, campaign_id).sms_auth_token_encrypted
    assert TOKEN not in stored and secrets.decrypt(stored) == TOKEN
    for response in (api.get(f"/sms-campaigns/{campaign_id}"), api.get("/sms-campaigns")):
        assert TOKEN not in response.get_data(as_text=True)

    kept = api.patch(f"/sms-campaigns/{campaign_id}", json={"sms_auth_token": "********",
                                                            "name": "Renamed"})
    assert kept.json["sms_auth_token"] == "********"
    db.session.rollback()
    assert sms_replies.auth_token(db.session.get(Campaign, campaign_id)) == TOKEN
    cleared = api.patch(f"/sms-campaigns/{campaign_id}", json={"sms_auth_token": ""})
    assert cleared.json["sms_auth_token"] == ""


def test_the_webhook_url_is_read_only_and_email_campaigns_have_neither(api, make_campaign):
    sms, email = make_campaign(channel=Channel.PHONE), make_campaign(channel=Channel.EMAIL)
    response = api.patch(f"/sms-campaigns/{sms.id}", json={"sms_webhook_url": "http://x.example"})
    assert response.status_code == 422
    response = api.patch(f"/email-campaigns/{email.id}", json={"sms_auth_token": TOKEN})
    assert response.status_code == 422
    body = api.get(f"/email-campaigns/{email.id}").json
    assert "sms_auth_token" not in body and "sms_webhook_url" not in body


def test_the_campaign_page_sets_keeps_and_clears_the_auth_token(as_admin, make_campaign):
    sms = make_campaign(channel=Channel.PHONE, name="Reminders")
    url = f"/campaigns/phone/{sms.id}/edit"
    text = unescape(as_admin.get(url).get_data(as_text=True))
    assert 'name="sms_auth_token"' in text and "No auth token is stored" in text
    assert f"http://localhost/sms/{sms.id}/inbound" in text

    def save(**fields):
        response = as_admin.post_form(url, {"name": "Reminders", "status": "active", **fields})
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.rollback()
        return sms_replies.auth_token(db.session.get(Campaign, sms.id))

    assert save(sms_auth_token=TOKEN) == TOKEN
    text = as_admin.get(url).get_data(as_text=True)
    assert TOKEN not in text and "A token is stored; leave empty to keep it." in text
    assert save() == TOKEN
    assert save(clear_sms_auth_token="y") == ""


def test_a_campaign_manager_sets_the_token_of_their_campaign(web, make_user, make_campaign,
                                                             api_as):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    sms = make_campaign(channel=Channel.PHONE, name="Reminders", manager=manager)
    response = web.login(manager).post_form(f"/campaigns/phone/{sms.id}/edit", {
        "name": "Reminders", "status": "active", "sms_auth_token": TOKEN})
    assert response.status_code == 302
    db.session.rollback()
    assert sms_replies.auth_token(db.session.get(Campaign, sms.id)) == TOKEN
    response = api_as(manager).patch(f"/sms-campaigns/{sms.id}", json={"sms_auth_token": "new"})
    assert response.status_code == 200 and response.json["sms_auth_token"] == "********"


def test_an_email_campaigns_page_has_no_auth_token(as_admin, make_campaign):
    email = make_campaign(channel=Channel.EMAIL)
    text = as_admin.get(f"/campaigns/email/{email.id}/edit").get_data(as_text=True)
    assert 'name="sms_auth_token"' not in text and 'id="stop-webhook"' not in text


# ---- `flask demo sms-reply` ------------------------------------------------------------------

@pytest.fixture
def running_app(app, monkeypatch):
    """The test app served on a free loopback port (PORT names it), in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PORT", str(server.server_port))
    yield server
    server.shutdown()
    thread.join(5)


def test_demo_sms_reply_signs_as_twilio_and_the_running_app_acts_on_it(app, campaign,
                                                                       running_app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "sms-reply", str(campaign.id), "(202) 555-0147"])
    assert result.exit_code == 0, result.output
    assert "200 " in result.output and "<Response" in result.output
    assert [row[1:3] for row in numbers()] == [(NUMBER, ContactSource.SMS_REPLY)]
    result = runner.invoke(args=["demo", "sms-reply", str(campaign.id), NUMBER, "START"])
    assert result.exit_code == 0, result.output
    assert numbers() == []


def test_demo_sms_reply_says_what_is_missing(app, make_campaign, running_app):
    sms = make_campaign(channel=Channel.PHONE)
    result = app.test_cli_runner().invoke(args=["demo", "sms-reply", str(sms.id), NUMBER])
    assert result.exit_code == 1 and "has no Twilio auth token" in result.output
    result = app.test_cli_runner().invoke(args=["demo", "sms-reply", str(sms.id + 9), NUMBER])
    assert result.exit_code == 1 and f"No SMS campaign {sms.id + 9}." in result.output
