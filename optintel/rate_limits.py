"""Rate limits on the app's Redis (Flask-Limiter), so that every web process sees the same
counts; while Redis cannot be reached they go on in each process's memory (Flask-Limiter logs
a warning, and that it recovered). One Limiter per app, to which the login throttling and the
public pages add their limits: one pair of request hooks, one error handler."""
import time

from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from .queue import redis_connection

EXTENSION = "optintel.rate_limits"
KEY_PREFIX = "optintel"


def client_address():
    """The key of the client's address (behind OPTINTEL_TRUSTED_PROXIES, the forwarded one)."""
    return "address:" + get_remote_address()


def init_app(app):
    """Give the app its Flask-Limiter, whose counters are Redis keys under KEY_PREFIX, kept
    apart by each limit's scope (its view, or the shared limit's name) and key (an address, an
    account); a breached limit answers what its on_breach made."""
    app.register_error_handler(RateLimitExceeded, lambda exc: exc.get_response())
    app.extensions[EXTENSION] = Limiter(
        client_address, app=app, storage_uri=app.config["REDIS_URL"],
        storage_options={"connection_pool": redis_connection(app).connection_pool},
        strategy="moving-window", key_prefix=KEY_PREFIX, in_memory_fallback_enabled=True,
        swallow_errors=True)


def limiter(app):
    """The app's Limiter (rate_limits.init_app gave it one)."""
    return app.extensions[EXTENSION]


def seconds_to_wait(limit):
    """How long until a breached limit lets the next request through: its Retry-After."""
    return max(1, int(limit.reset_at - time.time()))
