"""STOP and START replies to SMS campaigns (SPEC §8), as Twilio posts them to a campaign's
inbound-message webhook: form fields From, To, Body and MessageSid, signed in the
X-Twilio-Signature header with the campaign's Twilio auth token.

STOP and its synonyms add the sender to the campaign's receiving lists (its active Single phone
lists, Campaign.receiving_lists) with source SMS reply; START and its synonyms delete it from
those of them where an SMS reply put it (a number put in a list by hand, a file or the API
stays). Each MessageSid is acted on once."""
import re

import sqlalchemy as sa
from twilio.request_validator import RequestValidator, get_signature_algorithm

from . import secrets
from .contact_changes import Origin, add_contacts, remove_contacts
from .extensions import db
from .models import Campaign, Channel, Contact, ContactSource, ProjectSettings, SmsReply
from .models.columns import utcnow
from .normalize import InvalidContact, md5_of, normalize_phone
from .public_urls import external_url
from .sql import insert_ignoring_duplicates

ENDPOINT = "public.sms_inbound"
STOP, START = "stop", "start"
KEYWORDS = {**dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                             "OPTOUT"), STOP),
            **dict.fromkeys(("START", "UNSTOP", "YES"), START)}
# Spaces, punctuation and symbols around the word ("Stop.", " STOP! ").
_AROUND = re.compile(r"^[\W_]+|[\W_]+$")


def keyword(body):
    """STOP, START or None: what a reply's text asks, in any case, with spaces and punctuation
    around the word ignored."""
    return KEYWORDS.get(_AROUND.sub("", body or "").upper())


def webhook_url(campaign, default_base=None):
    """The URL to give Twilio as the campaign's inbound-message webhook (HTTP POST)."""
    return external_url(ENDPOINT, default_base, campaign_id=campaign.id)


def auth_token(campaign):
    """The campaign's Twilio auth token in clear; empty when none is stored."""
    return secrets.decrypt(campaign.sms_auth_token_encrypted)


def receiving_campaign(campaign_id):
    """The active SMS campaign of that id, or None."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.channel != Channel.PHONE or not campaign.is_active:
        return None
    return campaign


def signed_by_twilio(campaign, url, params, signature, signature_settings=None):
    """Whether Twilio signed this request to `url` (the full URL it called) with these form
    params: by the campaign's auth token, in the algorithm the settings header names (HMAC-SHA1
    when there is none). False when the campaign has no token or the request no signature."""
    token = auth_token(campaign)
    if not token or not signature:
        return False
    return RequestValidator(token).validate(url, params, signature,
                                            get_signature_algorithm(signature_settings))


def _first_time(campaign, message_sid):
    """Record the MessageSid in the current transaction; False when it was seen before."""
    table = SmsReply.__table__
    stmt = insert_ignoring_duplicates(table).returning(table.c.id)
    return db.session.execute(stmt, [{"campaign_id": campaign.id, "message_sid": message_sid,
                                      "received_at": utcnow()}]).first() is not None


def _mailer_id(campaign):
    """The mailer a reply came through: the campaign's only mailer; unknown when it has several."""
    return campaign.mailers[0].id if len(campaign.mailers) == 1 else None


def _lists_holding_reply(campaign, phone):
    lists = campaign.receiving_lists
    holding = set(db.session.scalars(sa.select(Contact.list_id).where(
        Contact.list_id.in_([lst.id for lst in lists]), Contact.md5 == md5_of(phone),
        Contact.source == ContactSource.SMS_REPLY)))
    return [lst for lst in lists if lst.id in holding]


def act_on(campaign, message_sid, sender, body):
    """Do what a reply asks; how many lists changed. A text that is no keyword, a sender that
    is no phone number, or a MessageSid seen before change nothing. The MessageSid is committed
    with the first change."""
    wanted = keyword(body)
    if wanted is None:
        return 0
    try:
        phone = normalize_phone(sender, ProjectSettings.get().default_phone_region)
    except InvalidContact:
        return 0
    if not _first_time(campaign, message_sid):
        db.session.rollback()
        return 0
    origin = Origin(ContactSource.SMS_REPLY, _mailer_id(campaign), campaign.id)
    if wanted == STOP:
        outcomes = [add_contacts(lst, [phone], origin) for lst in campaign.receiving_lists]
    else:
        outcomes = [remove_contacts(lst, [phone], origin)
                    for lst in _lists_holding_reply(campaign, phone)]
    db.session.commit()  # the MessageSid, when no list was there to change
    return sum(outcome.changed for outcome in outcomes)
