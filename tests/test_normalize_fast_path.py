"""The fast path of normalize_email (plain ASCII addresses, lower-cased without email-validator's
full checks) gives exactly what email-validator gives, for every address it takes, and leaves the
others to email-validator."""
import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from optintel.normalize import InvalidContact, _plain_email, normalize_email

LOCAL = string.ascii_letters + string.digits + "_+-."
DOMAIN = string.ascii_letters + string.digits + "-."
TRICKY = [
    "User.Name+tag@Example.COM", "a@b.co", "x_y@sub-domain.example.org", "a..b@example.com",
    ".a@example.com", "a.@example.com", "a@-example.com", "a@example-.com", "a@example.c",
    "a@example.123", "a@xn--bcher-kva.example", "a@ab--cd.example", "a@localhost",
    "a@host.local", "a@onion.onion", "a@example.test", "a@x.invalid", "a@in-addr.arpa",
    "a@exam_ple.com", "a" * 64 + "@example.com", "a" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com", "a@" + ".".join(["abcdefghi"] * 25) + ".com",
    "info@EXAMPLE.com", "Postmaster@example.com", "a@example.com.", "a@[127.0.0.1]",
    "\"quoted\"@example.com", "a b@example.com", "a@exa mple.com", "josé@example.com",
]


def by_email_validator(value):
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def by_normalize(value):
    try:
        return normalize_email(value)
    except InvalidContact:
        return None


def generated(count=20_000, seed=12):
    rng = random.Random(seed)
    for _ in range(count):
        local = "".join(rng.choice(LOCAL) for _ in range(rng.randint(1, 70)))
        labels = ["".join(rng.choice(DOMAIN) for _ in range(rng.randint(1, 12)))
                  for _ in range(rng.randint(1, 4))]
        tld = rng.choice(["com", "org", "de", "local", "test", "x", "c0m", "museum", "ONION",
                          "arpa", "co"])
        yield f"{local}@{'.'.join(labels)}.{tld}"


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_addresses_come_out_as_email_validator_says(value):
    assert by_normalize(value) == by_email_validator(value)


def test_generated_addresses_come_out_as_email_validator_says():
    taken = 0
    for value in generated():
        if _plain_email(value):
            taken += 1
            assert by_email_validator(value) == value.lower(), value
        assert by_normalize(value) == by_email_validator(value), value
    assert taken > 1000  # the fast path is exercised, not only its refusals
