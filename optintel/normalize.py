"""Turning what people type into the one stored form of an email address or phone number."""
import hashlib
import re

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from .models import Channel, ProjectSettings

MD5_RE = re.compile(r"^[0-9a-f]{32}$")
# Plain ASCII addresses that email-validator accepts as they are (dot-atom local part, host-name
# labels without "--", a letters-only top-level domain): their normal form is their lower case,
# found without its full checks, which cost some 40 µs an address (a million-line file).
# Anything else goes through email-validator; tests compare the two.
PLAIN_EMAIL_RE = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                            r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
SPECIAL_USE_DOMAINS = frozenset(SPECIAL_USE_DOMAIN_NAMES)


class InvalidContact(ValueError):
    """A value that is not a valid email address or phone number; str() is the reason."""


def md5_of(value):
    """Hex MD5 of an already normalised value."""
    return hashlib.md5(value.encode()).hexdigest()


def normalize_email(raw):
    """Trimmed, lower-cased, validated email address."""
    value = (raw or "").strip()
    if not value:
        raise InvalidContact("Empty value.")
    if _plain_email(value):
        return value.lower()
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(str(exc)) from None
    return result.normalized.lower()


def _plain_email(value):
    """Whether the address is one that email-validator accepts unchanged but for its case."""
    if len(value) > 254 or not PLAIN_EMAIL_RE.fullmatch(value):
        return False
    local, _, domain = value.partition("@")
    return (len(local) <= 64 and "--" not in domain
            and domain.rpartition(".")[2].lower() not in SPECIAL_USE_DOMAINS)


def normalize_phone(raw, region="US"):
    """Validated phone number in E.164; numbers without +country use the default region."""
    value = (raw or "").strip()
    if not value:
        raise InvalidContact("Empty value.")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"Not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("Not a valid phone number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(channel, raw, region="US"):
    """The normalised value of a contact of the channel, or InvalidContact."""
    if channel == Channel.EMAIL:
        return normalize_email(raw)
    return normalize_phone(raw, region)


def typed_md5(raw, channel=None):
    """The MD5 a typed contact stands for: a typed MD5 as it is, otherwise the MD5 of the
    normalised email address or phone number (of `channel`; without one, an email address when
    it has an @). Phone numbers without +country are read in Project Settings' default region.
    InvalidContact when it is none of these."""
    text = (raw or "").strip()
    if MD5_RE.match(text.lower()):
        return text.lower()
    if channel is None:
        channel = Channel.EMAIL if "@" in text else Channel.PHONE
    return md5_of(normalize(channel, text, ProjectSettings.get().default_phone_region))


def normalize_domain(raw):
    """A suppressed domain as stored: lower-case IDNA, checked by the email validator."""
    domain = (raw or "").strip().lower().lstrip("@")
    try:
        return validate_email(f"x@{domain}", check_deliverability=False).ascii_domain
    except EmailNotValidError as exc:
        raise InvalidContact(f"Not a domain: {exc}") from None
