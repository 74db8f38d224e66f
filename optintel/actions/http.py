"""HTTP for Ping URL and Slack, in the process's sending loop: each request goes to the address
that the target policy checked (resolved once, judged, connected to; a TLS certificate is
checked against the host name), over keep-alive connections pooled by that address and host
name (http_connections), without following redirects, within a timeout, keeping the first 4 KB
of the answer."""
import asyncio
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .http_connections import BadAnswer, Pool
from .target_policy import RefusedTarget, resolve_async

BODY_EXCERPT = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}
# The headers that frame a request are the client's own: a rule's are left out.
FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})
_pools = {}


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""
    retry_after: float | None = None
    refused: bool = False  # the target is not allowed or not valid: retrying cannot help


def _pool():
    """The connection pool of the running loop."""
    running = asyncio.get_running_loop()
    pool = _pools.get(running)
    if pool is None:
        pool = _pools[running] = Pool()
    return pool


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
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
        request = _request(method, parts, port, headers, body)
    except ValueError as exc:
        return HttpResult(error=str(exc), refused=True)
    try:
        # One deadline for the name's lookup, the connection, the request and the answer.
        async with asyncio.timeout(timeout):
            address = await resolve_async(host, port, policy)
            answer = await _pool().request(scheme, address, port, host, request, BODY_EXCERPT)
    except RefusedTarget as exc:
        return HttpResult(error=str(exc), refused=True)
    except TimeoutError:
        return HttpResult(error=f"Timed out after {timeout} s.")
    except (BadAnswer, OSError) as exc:
        return HttpResult(error=f"{type(exc).__name__}: {exc}")
    # A header sent more than once is one, its values joined, spelled as it came first.
    received = {}
    for name, value in answer.headers:
        received.setdefault(name.lower(), (name, []))[1].append(value)
    retry_after = received.get("retry-after")
    return HttpResult(status=answer.status,
                      headers={name: ", ".join(values) for name, values in received.values()},
                      body=answer.excerpt.decode("utf-8", "replace"),
                      retry_after=retry_after_seconds(retry_after[1][0] if retry_after else None))


def _request(method, parts, port, headers, body):
    """The bytes of a request: the URL's path and query as written (its escapes are the rule's),
    the rule's headers over the client's Host and User-Agent, the body with its length."""
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        # Its text would be the URL, which may hold credentials.
        raise ValueError("The URL cannot be sent.")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port != DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    fields = {"host": ("Host", host), "user-agent": ("User-Agent", "Opt-Intel-Event-Tracking/1.0")}
    for name, value in headers.items():
        if name.lower() not in FRAMING:
            fields[name.lower()] = (name, value)
    payload = body.encode() if body else b""
    if payload or method == "POST":
        fields["content-length"] = ("Content-Length", len(payload))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if " " in target or not target.isprintable():
        raise ValueError("The URL's path holds a space or a control character: the request "
                         "cannot be sent.")
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in fields.values())]
    head = "\r\n".join(lines)
    # One line each: a line break in a value would start a header (or a request) of its own.
    breaks = len(lines) - 1
    if head.count("\n") != breaks or head.count("\r") != breaks or "\0" in head:
        raise ValueError("A header or the URL holds a line break: the request cannot be sent.")
    return head.encode() + b"\r\n\r\n" + payload
