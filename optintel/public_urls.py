"""Absolute addresses of the public pages (unsubscribe links, SMS webhooks): on
OPTINTEL_PUBLIC_URL when it is set, else on the address of the current request (its host, or
what OPTINTEL_TRUSTED_PROXIES say it was)."""
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


class NoPublicAddress(RuntimeError):
    """Neither OPTINTEL_PUBLIC_URL nor a request tells where the public reaches the app."""


def check_public_url(value):
    """The setting's problem, or None: it is empty or an http(s) address without query."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return (f"OPTINTEL_PUBLIC_URL must be an http:// or https:// address such as "
                f"https://optouts.example.com, not {value!r}.")
    return None


def public_origin():
    """The scheme and host of OPTINTEL_PUBLIC_URL (https://optouts.example.com), or None."""
    parts = urlsplit(current_app.config["OPTINTEL_PUBLIC_URL"])
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None


def external_url(endpoint, default_base=None, **values):
    """The absolute URL of a public endpoint, values that are not in its path in its query: on
    OPTINTEL_PUBLIC_URL, else the request's address, else `default_base` (the command line)."""
    base = current_app.config["OPTINTEL_PUBLIC_URL"]
    if not base and not has_request_context():
        base = default_base
    if base:
        parts = urlsplit(base)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                           url_scheme=parts.scheme)
        return adapter.build(endpoint, values, force_external=True)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    raise NoPublicAddress("Set OPTINTEL_PUBLIC_URL: public links made outside a request need it.")
