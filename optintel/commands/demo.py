"""`flask demo seed`: a small installation to look around in, with contacts and their events."""
import os
import random
import secrets as random_secrets
import urllib.error
import urllib.parse
import urllib.request

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from .. import catalog, sms_replies
from ..contact_changes import Origin, add_contacts, remove_contacts
from ..events import outbox
from ..extensions import db
from ..models import (Campaign, Channel, ContactSource, ListKind, Mailer, OptOutList, Role, Storage,
                      User)
from ..validation import Invalid
from . import InvalidInput

DEMO_PASSWORD = "opt-intel-demo"
USERS = (("admin@example.com", "Ada Admin", Role.GLOBAL_ADMIN),
         ("manager@example.com", "Max Manager", Role.CAMPAIGN_MANAGER),
         ("owner@example.com", "Olivia Owner", Role.LIST_OWNER))
MAILERS = (("Northwind Mailing Ltd", "northwind", "ops@northwind.example"),
           ("Bluebird Sends Inc", "bluebird", "compliance@bluebird.example"),
           ("Harbor SMS Co", "harbor", "support@harbor.example"))
FIRST = ("ann", "bob", "chen", "dana", "eli", "fatima", "gus", "hana", "ivan", "jo")
LAST = ("smith", "garcia", "kim", "okafor", "muller", "rossi", "nguyen", "silva")
DOMAINS = ("example.com", "example.org", "mail.example.net")
AREA_CODES = ("202", "212", "305", "312", "415", "617")

demo = AppGroup("demo", help="Demo data.")


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has any user.")
def seed(if_empty):
    """Create demo users, mailers, opt-out lists, campaigns and contacts (so events exist)."""
    if if_empty and db.session.scalar(sa.select(User.id).limit(1)) is not None:
        click.echo("The database has users already; no demo data added.")
    else:
        try:
            # Seeded before Redis runs (make run): the first worker's reconciler hands the
            # events out, rather than each batch warning that Redis is away.
            with outbox.left_for_reconciler():
                _seed()
        except Invalid as invalid:
            db.session.rollback()
            raise InvalidInput(invalid) from None
    click.echo(f"Demo login: admin@example.com / {DEMO_PASSWORD}")
    click.echo(f"Open {_local_url()}")


def _local_url():
    return f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"


def _added(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def _list(channel, name, owner, storage=Storage.PLAIN_MD5, members=(), **fields):
    kind = ListKind.GROUPED if members else ListKind.SINGLE
    return _added(catalog.apply_list(OptOutList(channel=channel), name=name, kind=kind,
                                     storage=storage, owner_id=owner.id,
                                     member_ids=[m.id for m in members], **fields))


def _campaign(channel, name, manager, mailers, lists, **fields):
    return _added(catalog.apply_campaign(
        Campaign(channel=channel), name=name, manager_id=manager.id,
        mailer_ids=[m.id for m in mailers], list_ids=[lst.id for lst in lists], **fields))


def _seed():
    admin, manager, owner = (
        _added(catalog.apply_user(User(), email=email, name=name, role=role,
                                  password=DEMO_PASSWORD))
        for email, name, role in USERS)
    northwind, bluebird, harbor = (
        _added(catalog.apply_mailer(Mailer(), company_name=company, nickname=nickname, email=email,
                                    web_address=f"https://{nickname}.example"))
        for company, nickname, email in MAILERS)
    unsubscribes = _list(Channel.EMAIL, "Unsubscribes", owner,
                         suppressed_domains=["competitor.example"])
    complaints = _list(Channel.EMAIL, "Spam complaints (MD5 only)", owner, Storage.MD5)
    all_email = _list(Channel.EMAIL, "All email opt-outs", admin,
                      members=[unsubscribes, complaints])
    stop_replies = _list(Channel.PHONE, "SMS STOP replies", owner)
    do_not_call = _list(Channel.PHONE, "Do not call (MD5 only)", admin, Storage.MD5)
    _list(Channel.PHONE, "All phone opt-outs", admin, members=[stop_replies, do_not_call])
    # Scrubbed against the group, the campaign puts its unsubscribes in the group's Single list
    # "Unsubscribes", named too (a Grouped list holds no contacts itself).
    spring = _campaign(Channel.EMAIL, "Spring Sale", manager, [northwind, bluebird],
                       [all_email, unsubscribes])
    # A made-up auth token, so that `flask demo sms-reply` can sign as Twilio would.
    reminders = _campaign(Channel.PHONE, "Appointment Reminders", manager, [harbor], [stop_replies],
                          sms_auth_token=random_secrets.token_hex(16))
    db.session.commit()

    rng = random.Random(7)
    emails = [f"{rng.choice(FIRST)}.{rng.choice(LAST)}{n}@{rng.choice(DOMAINS)}"
              for n in range(260)]
    phones = [f"({rng.choice(AREA_CODES)}) 555-{n:04d}" for n in range(100, 240)]
    add_contacts(unsubscribes, emails[:200], Origin(ContactSource.UPLOAD, northwind.id, spring.id))
    add_contacts(complaints, emails[180:], Origin(ContactSource.API, bluebird.id))
    remove_contacts(unsubscribes, emails[:6], Origin(ContactSource.MANUAL))
    add_contacts(stop_replies, phones[:100],
                 Origin(ContactSource.SMS_REPLY, harbor.id, reminders.id))
    add_contacts(do_not_call, phones[90:], Origin(ContactSource.MANUAL))
    count = sum(lst.contact_count for lst in (unsubscribes, complaints, stop_replies, do_not_call))
    click.echo(f"Demo data: {len(USERS)} users, {len(MAILERS)} mailers, 6 opt-out lists, "
               f"2 campaigns, {count} contacts.")
    click.echo(f"Unsubscribe links: on the Settings tab of the email campaign “{spring.name}”.")
    click.echo(f"STOP webhook of “{reminders.name}”: "
               f"{sms_replies.webhook_url(reminders, _local_url())}; try it with "
               f"`flask demo sms-reply {reminders.id} +12025550123 STOP`.")


@demo.command("sms-reply")
@click.argument("campaign_id", type=int)
@click.argument("sender")
@click.argument("body", default="STOP")
def sms_reply(campaign_id, sender, body):
    """Send the STOP webhook of an SMS campaign (on OPTINTEL_PUBLIC_URL, else
    http://127.0.0.1:$PORT) a reply from SENDER, signed with the campaign's auth token as Twilio
    signs it, and print the answer: `make run` tried without Twilio."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.channel != Channel.PHONE:
        raise click.ClickException(f"No SMS campaign {campaign_id}.")
    token = sms_replies.auth_token(campaign)
    if not token:
        raise click.ClickException("The campaign has no Twilio auth token: set one on its page.")
    url = sms_replies.webhook_url(campaign, _local_url())
    params = {"MessageSid": "SM" + random_secrets.token_hex(16), "From": sender, "Body": body}
    request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers={
        SIGNATURE_HEADER: RequestValidator(token).compute_signature(url, params)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            click.echo(f"{response.status} {response.read().decode()}")
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"The webhook answered {exc.code}.") from None
    except urllib.error.URLError as exc:
        raise click.ClickException(f"No answer from {url}: {exc.reason}") from None
