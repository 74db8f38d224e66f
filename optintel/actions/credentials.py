"""Credentials inside a request: header and query parameter names that carry one by default,
and a URL's userinfo. Masking them wherever a URL is shown, restoring what a mask stands for,
and what a URL's credentials are bound to (its scheme, host and port)."""
import re
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

MASK = "********"
DEFAULT_PORTS = {"http": 80, "https": 443}
CREDENTIAL = re.compile(r"auth(?!ors?(?![a-z]))|token|secret|passw|signature|api[-_]?key|"
                        r"credential|cookie|session|(?:^|[-_.])(?:key|sig|pwd|pass|sid|jwt)(?:$|[-_.])",
                        re.IGNORECASE)


@lru_cache(maxsize=1024)
def credential_like(name):
    """Whether a header or query parameter of this name carries a credential (Authorization,
    X-Api-Key, token, secret, password, cookie, signature, key, sig ...); remembered, as every
    attempt asks it of its headers."""
    return bool(CREDENTIAL.search(name or ""))


def _userinfo(netloc):
    """(userinfo or None, host and port) of a URL's netloc."""
    userinfo, at, hostport = netloc.rpartition("@")
    return (userinfo if at else None), hostport


def _pairs(query):
    """[(name, '=' or '', value)] of a query string, as written."""
    return [pair.partition("=") for pair in query.split("&")] if query else []


def _is_credential(name, sep, value):
    return bool(sep and value) and credential_like(unquote_plus(name))


def masked_url(url):
    """The URL as shown: its userinfo and the values of credential-like query parameters
    replaced by MASK; any other URL as it is."""
    try:
        parts = urlsplit(url)
    except (TypeError, ValueError, AttributeError):
        return url
    userinfo, hostport = _userinfo(parts.netloc)
    netloc = f"{MASK}@{hostport}" if userinfo else parts.netloc
    query = "&".join(f"{n}={MASK}" if _is_credential(n, s, v) else n + s + v
                     for n, s, v in _pairs(parts.query))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def restored_url(url, stored):
    """The URL with each MASK of its userinfo and credential-like query parameters replaced by
    what it stands for in the stored URL (by name, in order); with nothing stored, removed."""
    parts, old = urlsplit(url), urlsplit(stored or "")
    userinfo, hostport = _userinfo(parts.netloc)
    netloc = parts.netloc
    if userinfo == MASK:
        old_userinfo = _userinfo(old.netloc)[0]
        netloc = f"{old_userinfo}@{hostport}" if old_userinfo else hostport
    old_values = {}
    for name, sep, value in _pairs(old.query):
        if _is_credential(name, sep, value):
            old_values.setdefault(name, []).append(value)
    pairs = []
    for name, sep, value in _pairs(parts.query):
        if value == MASK and credential_like(unquote_plus(name)):
            value = (old_values.get(name) or [""]).pop(0)
        pairs.append(name + sep + value)
    return urlunsplit(parts._replace(netloc=netloc, query="&".join(pairs)))


def url_target(url):
    """What a URL's secrets are bound to: (scheme, host, port); the value itself when it is not
    a URL."""
    if not isinstance(url, str):
        return url
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").rstrip("."), parts.port or DEFAULT_PORTS.get(scheme)
    except (TypeError, ValueError, AttributeError):
        return url


def without_masks(text):
    """A form field's text with its masks removed (a URL's masked userinfo with its @)."""
    return text.replace(MASK + "@", "").replace(MASK, "")
