"""`{{name}}` placeholders (SPEC §6): their names and sample values, which of them a trigger's
events give, finding them in a rule's settings, the values an event gives them, and rendering
with the escaping of where a value lands. Used by the actions, the rules' validation and Test
Runs."""
import json
import re
from urllib.parse import quote

import sqlalchemy as sa

from .extensions import db
from .models import Campaign, Channel, Mailer, OptOutList
from .sql import among_parameter, built_once

PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# The names of SPEC §6 with the sample values used to check a rule and to pre-fill a Test Run.
SAMPLES = {
    "event_id": "1001",
    "trigger": "contact_added",
    "channel": "email",
    "contact": "jane.doe@example.com",
    "email": "jane.doe@example.com",
    "phone": "+12025550143",
    "contact_md5": "9e26471d35a78862c17e467d87cddedf",
    "list_id": "7",
    "list_name": "Main suppression list",
    "campaign_id": "12",
    "campaign_name": "Spring newsletter",
    "mailer_id": "3",
    "mailer_name": "acme-mail",
    "source": "api",
    "occurred_at": "2026-01-15T09:30:00Z",
    "rule_id": "42",
    # Meta events: the rule paused, resumed or whose delivery failed, and why.
    "subject_rule_id": "17",
    "subject_rule_level": "Email Opt-Out List",
    "subject_rule_scope": "Email Opt-Out List: Main suppression list (#7)",
    "subject_rule_action": "Ping URL",
    "reason": "Every attempt failed for 24 h: 20 failed attempts in a row.",
    "last_error": "503 Service Unavailable",
    "delivery_id": "5001",
}
NAMES = tuple(SAMPLES)
# What each kind of event gives: a contact event the names of SPEC §6; a meta event its subject
# (a Delivery Failed event also the list and MD5 of the failed delivery's contact).
SUBJECT_NAMES = ("subject_rule_id", "subject_rule_level", "subject_rule_scope",
                 "subject_rule_action", "reason", "last_error", "delivery_id")
META_NAMES = ("event_id", "trigger", "occurred_at", "rule_id", *SUBJECT_NAMES, "channel",
              "list_id", "list_name", "contact_md5")
CONTACT_NAMES = tuple(name for name in NAMES if name not in SUBJECT_NAMES)


def names_for(trigger):
    """The placeholder names that events of the trigger (a Trigger) give values to."""
    return META_NAMES if trigger.is_meta else CONTACT_NAMES


def used(text):
    """The placeholder names written in a text, in order, without repeats."""
    seen = []
    for name in PATTERN.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def unknown(text):
    """The names in a text that are not placeholders."""
    return [name for name in used(text) if name not in SAMPLES]


def _plain(value):
    return value


def _url(value):
    return quote(value, safe="")


def _json(value):
    return json.dumps(value)[1:-1]


ESCAPES = {"plain": _plain, "url": _url, "json": _json}


def render(text, values, escape="plain"):
    """Replace each placeholder by its value (empty when absent), escaped for where it lands."""
    escaper = ESCAPES[escape]
    return PATTERN.sub(lambda m: escaper(str(values.get(m.group(1)) or "")), text or "")



def values_for(events):
    """{event id: {placeholder: text}} for event rows (mappings of the events table); the names
    of lists, campaigns and mailers are read in one query per kind."""
    lists = _names(OptOutList, OptOutList.name, [e["list_id"] for e in events])
    campaigns = _names(Campaign, Campaign.name, [e["campaign_id"] for e in events])
    mailers = _names(Mailer, Mailer.company_name, [e["mailer_id"] for e in events])
    values = {}
    for e in events:
        if e["details"] is not None:
            values[e["id"]] = _meta_values(e, lists)
            continue
        contact = e["contact"] or ""
        values[e["id"]] = {
            "event_id": str(e["id"]), "trigger": str(e["trigger"]), "channel": str(e["channel"]),
            "contact": contact, "email": contact if e["channel"] == Channel.EMAIL else "",
            "phone": contact if e["channel"] == Channel.PHONE else "",
            "contact_md5": e["contact_md5"], "list_id": str(e["list_id"]),
            "list_name": lists.get(e["list_id"], ""),
            "campaign_id": str(e["campaign_id"] or ""),
            "campaign_name": campaigns.get(e["campaign_id"], ""),
            "mailer_id": str(e["mailer_id"] or ""), "mailer_name": mailers.get(e["mailer_id"], ""),
            "source": str(e["source"]),
            "occurred_at": e["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    return values


def _meta_values(event, lists):
    """The placeholder values of a meta event row."""
    values = {name: "" for name in META_NAMES}
    values.update({name: str(value) for name, value in event["details"].items()})
    values.update(event_id=str(event["id"]), trigger=str(event["trigger"]),
                  occurred_at=event["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                  subject_rule_id=str(event["subject_rule_id"] or ""),
                  delivery_id=str(event["subject_delivery_id"] or ""),
                  channel=str(event["channel"] or ""), list_id=str(event["list_id"] or ""),
                  list_name=lists.get(event["list_id"], ""),
                  contact_md5=event["contact_md5"] or "")
    return values


def _names(model, column, ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(_names_among(model, column.key), {"ids": list(ids)}).all())


@built_once
def _names_among(model, name):
    table = model.__table__
    return sa.select(table.c.id, table.c[name]).where(among_parameter(table.c.id, "ids"))
