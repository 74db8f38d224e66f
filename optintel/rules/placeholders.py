"""`{{name}}` placeholders in action settings: the names, sample values, and rendering with the
escaping of where a value lands."""
import json
import re
from urllib.parse import quote

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
}
NAMES = tuple(SAMPLES)


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

