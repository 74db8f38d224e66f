"""The unsubscribe link of an email campaign and one of its mailers (SPEC §8).

A public URL whose token, signed with SECRET_KEY (itsdangerous), names the campaign, the mailer
and, in a link made for one recipient, the address; nothing in it changes without breaking the
signature. Unsubscribing adds the address to the campaign's receiving lists (its active Single
email lists, Campaign.receiving_lists), attributed to that mailer and campaign, with source
Unsubscribe link; an address already there adds nothing and fires nothing."""
import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from .contact_changes import Origin, add_contacts
from .extensions import db
from .models import Campaign, Channel, ContactSource, Mailer, Status
from .normalize import InvalidContact, normalize_email
from .public_urls import external_url

ENDPOINT = "public.unsubscribe"
TOKEN = "t"  # the query parameter of the token: gunicorn's access log leaves queries out
SALT = "optintel.unsubscribe-link"


@dataclass(frozen=True)
class Link:
    """What a valid token names: a campaign and one of its mailers, maybe an address."""

    campaign: Campaign
    mailer: Mailer
    email: str | None = None


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt=SALT,
                             signer_kwargs={"digest_method": hashlib.sha256})


def campaign_problem(campaign):
    """Why the campaign's links unsubscribe no one, or None."""
    if campaign.channel != Channel.EMAIL:
        return "Only email campaigns have unsubscribe links."
    if not campaign.is_active:
        return "The campaign is disabled: its links answer “not found”."
    if not campaign.receiving_lists:
        return ("The campaign has no active Single email list to put unsubscribes in (a Grouped "
                "list's contacts are in its lists): add one to its opt-out lists.")
    return None


def mailer_problem(campaign, mailer):
    """Why the mailer's link of the campaign unsubscribes no one, or None."""
    if mailer not in campaign.mailers:
        return "The mailer does not send this campaign."
    if mailer.status != Status.ACTIVE:
        return "The mailer is disabled: its link answers “not found”."
    return None


def problem(campaign, mailer):
    """Why a link of the campaign and mailer unsubscribes no one, or None."""
    return campaign_problem(campaign) or mailer_problem(campaign, mailer)


def _base_url():
    return external_url(ENDPOINT)


def _url(base, campaign, mailer, email=None):
    payload = [campaign.id, mailer.id] + ([email] if email else [])
    return f"{base}?{TOKEN}={_serializer().dumps(payload)}"


def url_of(campaign, mailer, email=None):
    """The link of the campaign and mailer; with `email` (normalised), for that recipient."""
    return _url(_base_url(), campaign, mailer, email)


def urls_for(campaign, mailer, raw_emails):
    """([{"email": as given, "url"}] of the valid addresses in order, [{"value", "error"}] of
    the others): the links of one recipient each; without addresses (None), the mailer's one
    link, which asks for the address."""
    if raw_emails is None:
        return [{"email": None, "url": url_of(campaign, mailer)}], []
    base, links, invalid = _base_url(), [], []
    for raw in raw_emails:
        try:
            if not isinstance(raw, str):
                raise InvalidContact("Not a text value.")
            links.append({"email": raw, "url": _url(base, campaign, mailer, normalize_email(raw))})
        except InvalidContact as exc:
            invalid.append({"value": raw, "error": str(exc)})
    return links, invalid


def follow(token):
    """The Link of a token if it unsubscribes anyone; None when it is tampered with or was not
    made here, or its campaign or mailer is gone, disabled or cannot take unsubscribes."""
    try:
        payload = _serializer().loads(token or "")
    except BadData:
        return None
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        return None
    campaign, mailer = db.session.get(Campaign, payload[0]), db.session.get(Mailer, payload[1])
    if campaign is None or mailer is None or problem(campaign, mailer):
        return None
    return Link(campaign, mailer, payload[2] if len(payload) == 3 else None)


def unsubscribe(link, raw_email):
    """Add the address to the link's campaign's receiving lists; the address as stored.
    InvalidContact when it is no email address."""
    email = normalize_email(raw_email)
    origin = Origin(ContactSource.UNSUBSCRIBE, link.mailer.id, link.campaign.id)
    for opt_out_list in link.campaign.receiving_lists:
        add_contacts(opt_out_list, [email], origin)
    return email


def campaign_links(campaign):
    """What the campaign's page shows: (the campaign's problem or None, [(mailer, its link or
    None, the mailer's problem or None)])."""
    trouble = campaign_problem(campaign)
    rows = []
    for mailer in campaign.mailers:
        why = mailer_problem(campaign, mailer)
        rows.append((mailer, None if trouble or why else url_of(campaign, mailer), why))
    return trouble, rows
