"""Configuration from the environment, with embedded defaults for one-command runs."""
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
# The folder of this machine's own files: the SQLite database, the Redis dump, generated keys.
INSTANCE = Path(os.environ.get("OPTINTEL_INSTANCE") or ROOT / "instance").absolute()

EMBEDDED_REDIS_PORT = int(os.environ.get("OPTINTEL_REDIS_PORT", "6389"))


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def sqlalchemy_url(url):
    """A database URL as SQLAlchemy takes it: Heroku-style and plain PostgreSQL URLs name no
    driver or the old one; psycopg 3 is the one installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    OPTINTEL_INSTANCE = str(INSTANCE)
    # Unset, SECRET_KEY and the encryption keys are generated once into the instance folder
    # (optintel/keys.py). The encryption keys are Fernet keys, newest first, comma-separated;
    # OPTINTEL_ENCRYPTION_KEY gives a single one.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    OPTINTEL_ENCRYPTION_KEYS = os.environ.get("OPTINTEL_ENCRYPTION_KEYS")
    OPTINTEL_ENCRYPTION_KEY = os.environ.get("OPTINTEL_ENCRYPTION_KEY")
    SQLALCHEMY_DATABASE_URI = sqlalchemy_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'optintel.db'}"))
    # hide_parameters: a database error logged with its traceback must not carry the values of
    # the statement (contacts, secrets).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    REDIS_URL = os.environ.get("REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")
    OPTINTEL_ALLOW_PRIVATE_TARGETS = _bool("OPTINTEL_ALLOW_PRIVATE_TARGETS")
    OPTINTEL_MAX_BATCH = 10_000
    # The largest file an upload takes (its request body may be that large, unlike others).
    OPTINTEL_MAX_UPLOAD_BYTES = int(os.environ.get("OPTINTEL_MAX_UPLOAD_BYTES", str(256 << 20)))
    # Deliveries executed by one job, and HTTP/SMTP attempts in flight at once in a worker.
    OPTINTEL_DELIVERY_BATCH = int(os.environ.get("OPTINTEL_DELIVERY_BATCH", "1000"))
    OPTINTEL_CONCURRENCY = int(os.environ.get("OPTINTEL_CONCURRENCY", "32"))
    # Add/Remove actions feeding each other stop at this depth.
    OPTINTEL_MAX_CHAIN_DEPTH = int(os.environ.get("OPTINTEL_MAX_CHAIN_DEPTH", "3"))
    # How often a worker reconciles the database with Redis, and how long work may look lost
    # (no job seen) before it is handed out again; deliveries with no job waiting, a tick.
    OPTINTEL_RECONCILE_SECONDS = float(os.environ.get("OPTINTEL_RECONCILE_SECONDS", "2"))
    OPTINTEL_REQUEUE_AFTER_SECONDS = float(os.environ.get("OPTINTEL_REQUEUE_AFTER_SECONDS", "60"))
    # A worker's lease on the deliveries it took, renewed every third of it while it works on
    # them: a killed worker's deliveries are handed out again once it runs out (plus a
    # reconciler tick at most).
    OPTINTEL_LEASE_SECONDS = float(os.environ.get("OPTINTEL_LEASE_SECONDS", "30"))
    # On a warm shutdown, how long attempts already sent may take before their deliveries are
    # released unfinished; within honcho's 5 s between the first process ending and SIGKILL.
    OPTINTEL_SHUTDOWN_GRACE_SECONDS = float(os.environ.get("OPTINTEL_SHUTDOWN_GRACE_SECONDS", "1"))
    # The per-host circuit breaker: after this many failures in a row from a host (0: never),
    # its deliveries wait a cool-off that doubles from the first to the longest.
    OPTINTEL_BREAKER_FAILURES = int(os.environ.get("OPTINTEL_BREAKER_FAILURES", "5"))
    OPTINTEL_BREAKER_COOLOFF_SECONDS = float(
        os.environ.get("OPTINTEL_BREAKER_COOLOFF_SECONDS", "30"))
    OPTINTEL_BREAKER_MAX_COOLOFF_SECONDS = float(
        os.environ.get("OPTINTEL_BREAKER_MAX_COOLOFF_SECONDS", "600"))
    # Failed logins allowed per account and per client address (limits' notation), counted in
    # Redis; beyond them the login page answers 429 until the window has passed.
    OPTINTEL_LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("OPTINTEL_LOGIN_LIMIT_PER_ACCOUNT",
                                                      "5 per minute")
    OPTINTEL_LOGIN_LIMIT_PER_ADDRESS = os.environ.get("OPTINTEL_LOGIN_LIMIT_PER_ADDRESS",
                                                      "20 per minute")
    # Requests allowed per client address to the public pages (unsubscribe links), and failed
    # signature checks allowed per client address at the SMS STOP webhooks; beyond them 429.
    OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS = os.environ.get("OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS",
                                                       "60 per minute")
    # The address the public reaches the app at (https://optouts.example.com): unsubscribe links
    # and SMS webhook URLs are made on it, and Twilio's signatures checked against it. Unset, the
    # address of the request is used (the host of the page or API call).
    OPTINTEL_PUBLIC_URL = os.environ.get("OPTINTEL_PUBLIC_URL", "").strip()
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host; 0 trusts
    # none of these headers (a client could forge its address and HTTPS).
    OPTINTEL_TRUSTED_PROXIES = int(os.environ.get("OPTINTEL_TRUSTED_PROXIES", "0"))
    # Level of the server's log (DEBUG, INFO, WARNING ...).
    OPTINTEL_LOG_LEVEL = os.environ.get("OPTINTEL_LOG_LEVEL", "INFO").upper()
    CONTACTS_PER_PAGE = 50
    # The largest request body read, in bytes (a larger one is answered 413): 2 MB holds a
    # batch of 10,000 contacts several times over.
    MAX_CONTENT_LENGTH = int(os.environ.get("OPTINTEL_MAX_REQUEST_BYTES", str(2 * 1024 * 1024)))
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    API_TITLE = "Opt-Intel Event Tracking API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_URL_PREFIX = "/api/v1"


class TestConfig(Config):
    TESTING = True
    # New keys for each test run, shared by the test app and the worker processes it starts.
    SECRET_KEY = secrets.token_urlsafe(32)
    OPTINTEL_ENCRYPTION_KEYS = None
    OPTINTEL_ENCRYPTION_KEY = Fernet.generate_key().decode()
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    OPTINTEL_ALLOW_PRIVATE_TARGETS = True
