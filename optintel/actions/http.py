"""HTTP for Ping URL and Slack: pooled keep-alive connections to the address that was checked,
refusing non-public targets (server-side request forgery) unless allowed."""
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3

BODY_EXCERPT = 4096
POOL_SIZE = 32
_pools = {}
_pools_lock = threading.Lock()


class UnsafeTarget(Exception):
    """The URL's host resolves to an address that is not allowed."""


@dataclass
class TargetPolicy:
    """Which addresses a request may reach: public ones, plus the allowed networks."""

    allow_private: bool = False
    allowed_networks: tuple = ()

    @classmethod
    def from_settings(cls, allow_private, cidrs_text):
        networks = []
        for line in (cidrs_text or "").replace(",", "\n").splitlines():
            if line.strip():
                networks.append(ipaddress.ip_network(line.strip(), strict=False))
        return cls(allow_private, tuple(networks))

    def check(self, address):
        ip = ipaddress.ip_address(address)
        if self.allow_private or any(ip in net for net in self.allowed_networks):
            return
        # is_global excludes loopback, private, link-local (cloud metadata), shared and reserved.
        if not ip.is_global or ip.is_multicast:
            raise UnsafeTarget(f"{address} is not a public address; requests to it are refused.")


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""
    retry_after: float | None = None
    refused: bool = False  # the target is not allowed: retrying cannot help


def resolve(host, port, policy):
    """The first address of the host that the policy allows; UnsafeTarget when none is."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"Cannot resolve {host}: {exc.strerror}") from None
    refusal = None
    for info in infos:
        address = info[4][0]
        try:
            policy.check(address)
            return address
        except UnsafeTarget as exc:
            refusal = exc
    raise refusal


def _pool(scheme, address, port, host):
    key = (scheme, address, port, host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(address, port, maxsize=POOL_SIZE, block=False,
                                                   server_hostname=host, assert_hostname=host)
            else:
                pool = urllib3.HTTPConnectionPool(address, port, maxsize=POOL_SIZE, block=False)
            _pools[key] = pool
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


def send(method, url, headers, body, timeout, policy):
    """Send one request without following redirects; the outcome, never an exception."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = resolve(host, port, policy)
        pool = _pool(scheme, address, port, host)
        default_port = port == (443 if scheme == "https" else 80)
        headers = {"Host": host if default_port else f"{host}:{port}",
                   "User-Agent": "Opt-Intel-Event-Tracking/1.0", **headers}
        response = pool.urlopen(method, path, body=body.encode() if body else None,
                                headers=headers, redirect=False, retries=False,
                                timeout=urllib3.Timeout(total=timeout), preload_content=False)
        try:
            excerpt = response.read(BODY_EXCERPT)
            response.drain_conn()  # read the rest, so the connection goes back to the pool
        finally:
            response.release_conn()
        return HttpResult(status=response.status, headers=dict(response.headers),
                          body=excerpt.decode("utf-8", "replace"),
                          retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    except UnsafeTarget as exc:
        return HttpResult(error=str(exc), refused=True)
    except urllib3.exceptions.TimeoutError:
        return HttpResult(error=f"Timed out after {timeout} s.")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return HttpResult(error=f"{type(exc).__name__}: {exc}")
