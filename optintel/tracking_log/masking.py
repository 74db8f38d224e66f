"""Contacts masked: in the Tracking Log before anyone confirms access, and everywhere for those
who may not see a list's contacts in clear."""
import json
from urllib.parse import quote, quote_plus


def mask_contact(value, md5):
    """'j***@example.com', '+1******4567'; only the MD5 when the plain value is not kept;
    empty for a meta event's delivery, which is about no contact."""
    if not value:
        return md5 or ""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 6:
        return value[:2] + "*" * (len(value) - 2)
    return value[:2] + "*" * (len(value) - 6) + value[-4:]


def _spellings(contact):
    """How a contact may be written inside a request: as it is, URL-encoded, JSON-escaped."""
    return sorted({contact, quote(contact, safe=""), quote_plus(contact),
                   json.dumps(contact)[1:-1]}, key=len, reverse=True)


def mask_within(data, contact, md5):
    """`data` (text, or dicts and lists of it, e.g. an attempt's request) with every spelling
    of the plain contact replaced by its mask."""
    if not contact:
        return data
    masked = mask_contact(contact, md5)

    def scrub(value):
        if isinstance(value, str):
            for spelling in _spellings(contact):
                value = value.replace(spelling, masked)
            return value
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value
    return scrub(data)


ATTEMPT_FIELDS = ("number", "state", "started_at", "duration_ms", "succeeded", "request",
                  "response_status", "response_headers", "response_body", "error")


def seen_delivery(delivery, in_clear):
    """(contact, [attempt as a dict]) of a delivery (its event loaded) as a viewer sees them:
    in clear, or with the plain contact masked wherever it appears."""
    contact = delivery.event.contact
    attempts = [{name: getattr(a, name) for name in ATTEMPT_FIELDS} for a in delivery.attempt_rows]
    if in_clear or not contact:
        return contact, attempts
    return mask_contact(contact, delivery.contact_md5), \
        mask_within(attempts, contact, delivery.contact_md5)
