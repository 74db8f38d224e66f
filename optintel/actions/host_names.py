"""Host names as a target may give them: an IP address, or labels of letters, digits and hyphens
(international letters as IDNA 2008 allows) of at most 63 characters, at most 253 in all."""
import ipaddress
import re
from functools import lru_cache

import idna

MAX_NAME, MAX_LABEL, SHOWN = 253, 63, 60
ASCII_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9.\-\u0080-\U0010ffff]")


def _shown(host):
    return host if len(host) <= SHOWN else host[:SHOWN] + "…"


@lru_cache(maxsize=1024)
def problem(host):
    """Why the host cannot be a target's host, as a sentence; None for a valid one. Remembered:
    every attempt asks it of its host."""
    if not host:
        return "The host is missing."
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host  # a trailing dot names the root: allowed
    invalid = f"{_shown(host)} is not a valid host name"
    if len(name) > MAX_NAME:
        return f"{invalid}: it is longer than {MAX_NAME} characters."
    labels = name.split(".")
    if "" in labels:
        return f"{invalid}: a label between dots is empty."
    if any(len(label) > MAX_LABEL for label in labels):
        return f"{invalid}: a label between dots is longer than {MAX_LABEL} characters."
    bad = ASCII_NOT_ALLOWED.search(name)
    if bad:
        return f"{invalid}: {bad.group()!r} is not allowed in a host name."
    try:
        idna.encode(name, uts46=True)
    except idna.IDNAError as exc:
        return f"{invalid}: {exc}."
    return None


@lru_cache(maxsize=1024)
def to_ascii(host):
    """The name as DNS knows it (IDNA 2008 A-labels); an IP address as it is. Call after
    problem()."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        dot = "." if host.endswith(".") else ""
        return idna.encode(host.rstrip("."), uts46=True).decode() + dot
