"""HTTP for Ping URL and Slack, on aiohttp in the process's sending loop: each request goes to
the address that the target policy checked (resolved once, judged, connected to; a TLS
certificate is checked against the host name), over keep-alive connections pooled by that
address and host name, without following redirects, within a timeout, keeping the first 4 KB of
the answer."""
import asyncio
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from .target_policy import RefusedTarget, resolve_async

BODY_EXCERPT = 4096
# Whatever an answer holds after its excerpt is read to its end in chunks of this, so that its
# connection can be used again.
DRAIN_CHUNK = 65536
_sessions = {}
# The deadline is asyncio's, around the whole request.
NO_TIMEOUT = aiohttp.ClientTimeout(total=None)


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""
    retry_after: float | None = None
    refused: bool = False  # the target is not allowed or not valid: retrying cannot help


def _session():
    """The client session of the running loop: no cookies kept, no proxies from the
    environment, bodies as they come (not decompressed); the sending loop bounds how many
    requests are under way."""
    running = asyncio.get_running_loop()
    session = _sessions.get(running)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=0, use_dns_cache=False)
        session = _sessions[running] = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            skip_auto_headers=("Accept-Encoding",), trust_env=False)
    return session


def retry_after_seconds(value):
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def send_async(method, url, headers, body, timeout, policy):
    """Send one request without following redirects; the outcome, never an exception."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        # One deadline for the name's lookup, the connection, the request and the answer.
        async with asyncio.timeout(timeout):
            address = await resolve_async(host, port, policy)
            default_port = port == (443 if scheme == "https" else 80)
            headers = {"Host": host if default_port else f"{host}:{port}",
                       "User-Agent": "Opt-Intel-Event-Tracking/1.0", **headers}
            shown = f"[{address}]" if ":" in address else address
            # Sent as written: the URL's escapes are the rule's, not requoted.
            target = URL(f"{scheme}://{shown}:{port}{path}", encoded=True)
            async with _session().request(
                    method, target, data=body.encode() if body else None, headers=headers,
                    allow_redirects=False, server_hostname=host if scheme == "https" else None,
                    timeout=NO_TIMEOUT) as response:
                excerpt = await _excerpt(response.content)
                while await response.content.read(DRAIN_CHUNK):
                    pass
                return HttpResult(
                    status=response.status,
                    headers={name: ", ".join(response.headers.getall(name))
                             for name in response.headers.keys()},
                    body=excerpt.decode("utf-8", "replace"),
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    except RefusedTarget as exc:
        return HttpResult(error=str(exc), refused=True)
    except TimeoutError:
        return HttpResult(error=f"Timed out after {timeout} s.")
    except aiohttp.InvalidURL:
        # Its text would be the URL, which may hold credentials.
        return HttpResult(error="InvalidURL: the URL cannot be sent.")
    except (aiohttp.ClientError, OSError) as exc:
        return HttpResult(error=f"{type(exc).__name__}: {exc}")


async def _excerpt(content):
    """The first BODY_EXCERPT bytes of an answer (fewer when it is shorter)."""
    excerpt = bytearray()
    while len(excerpt) < BODY_EXCERPT:
        chunk = await content.read(BODY_EXCERPT - len(excerpt))
        if not chunk:
            break
        excerpt += chunk
    return bytes(excerpt)
