"""Rate limits on the app's Redis (Flask-Limiter), so that every web process sees the same
counts; while Redis cannot be reached they go on in each process's memory (Flask-Limiter logs
a warning, and that it recovered). Used by the login throttling and the public pages."""
import time

from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from .queue import redis_connection


def client_address():
    """The key of the client's address (behind OPTINTEL_TRUSTED_PROXIES, the forwarded one)."""
    return "address:" + get_remote_address()


def limiter(app, key_prefix):
    """A Flask-Limiter of the app whose counters are Redis keys under `key_prefix`; a breached
    limit answers what its on_breach made."""
    app.register_error_handler(RateLimitExceeded, lambda exc: exc.get_response())
    return Limiter(client_address, app=app, storage_uri=app.config["REDIS_URL"],
                   storage_options={"connection_pool": redis_connection(app).connection_pool},
                   strategy="moving-window", key_prefix=key_prefix,
                   in_memory_fallback_enabled=True, swallow_errors=True)


def seconds_to_wait(limit):
    """How long until a breached limit lets the next request through: its Retry-After."""
    return max(1, int(limit.reset_at - time.time()))
