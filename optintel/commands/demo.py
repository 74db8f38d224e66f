"""`flask demo seed`: a small installation to look around in, with contacts and their events."""
import os
import random

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from .. import catalog
from ..contact_changes import Origin, add_contacts, remove_contacts
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
            _seed()
        except Invalid as invalid:
            db.session.rollback()
            raise InvalidInput(invalid) from None
    click.echo(f"Demo login: admin@example.com / {DEMO_PASSWORD}")
    click.echo(f"Open http://127.0.0.1:{os.environ.get('PORT', '5000')}")


def _added(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def _list(channel, name, owner, storage=Storage.PLAIN_MD5, members=(), **fields):
    kind = ListKind.GROUPED if members else ListKind.SINGLE
    return _added(catalog.apply_list(OptOutList(channel=channel), name=name, kind=kind,
                                     storage=storage, owner_id=owner.id,
                                     member_ids=[m.id for m in members], **fields))


def _campaign(channel, name, manager, mailers, lists):
    return _added(catalog.apply_campaign(
        Campaign(channel=channel), name=name, manager_id=manager.id,
        mailer_ids=[m.id for m in mailers], list_ids=[lst.id for lst in lists]))


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
    spring = _campaign(Channel.EMAIL, "Spring Sale", manager, [northwind, bluebird], [all_email])
    reminders = _campaign(Channel.PHONE, "Appointment Reminders", manager, [harbor], [stop_replies])
    db.session.commit()

    rng = random.Random(7)
    emails = [f"{rng.choice(FIRST)}.{rng.choice(LAST)}{n}@{rng.choice(DOMAINS)}"
              for n in range(260)]
    phones = [f"({rng.choice(AREA_CODES)}) 555-{n:04d}" for n in range(100, 240)]
    add_contacts(unsubscribes, emails[:200], Origin(ContactSource.UPLOAD, northwind.id, spring.id))
    add_contacts(complaints, emails[180:], Origin(ContactSource.API, bluebird.id))
    remove_contacts(unsubscribes, emails[:6], Origin(ContactSource.MANUAL))
    add_contacts(stop_replies, phones[:100],
                 Origin(ContactSource.UNSUBSCRIBE, harbor.id, reminders.id))
    add_contacts(do_not_call, phones[90:], Origin(ContactSource.MANUAL))
    count = sum(lst.contact_count for lst in (unsubscribes, complaints, stop_replies, do_not_call))
    click.echo(f"Demo data: {len(USERS)} users, {len(MAILERS)} mailers, 6 opt-out lists, "
               f"2 campaigns, {count} contacts.")
