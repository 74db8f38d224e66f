"""HTTP for Ping URL and Slack: pooled keep-alive connections to the address that the target
policy checked, no redirects, a timeout and an excerpt of the answer."""
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3

from .target_policy import RefusedTarget, resolve

BODY_EXCERPT = 4096
POOL_SIZE = 32
_pools = {}
_pools_lock = threading.Lock()


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""
    retry_after: float | None = None
    refused: bool = False  # the target is not allowed or not valid: retrying cannot help


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
    except RefusedTarget as exc:
        return HttpResult(error=str(exc), refused=True)
    except urllib3.exceptions.TimeoutError:
        return HttpResult(error=f"Timed out after {timeout} s.")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return HttpResult(error=f"{type(exc).__name__}: {exc}")
