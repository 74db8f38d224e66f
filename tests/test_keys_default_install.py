"""A default install, as `make run` starts it: SQLite, no key in the environment, gunicorn with
two workers and an RQ worker starting at the same moment against an empty instance folder."""
import base64
import hashlib
import re
import sqlite3
import stat
import subprocess
import sys

import pytest
import urllib3
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from standardwebhooks import Webhook

from tests.conftest import ROOT, RedisServer, free_port, wait_for
from tests.installs import default_env, flask

OLD_SOURCE_KEY = "dev-only-secret-key-change-me"
ADMIN, PASSWORD = "admin@example.com", "a default install's password"


class Install:
    """The processes of one default install and a way to talk to its web server."""

    def __init__(self, folder, redis_url):
        self.folder, self.instance = folder, folder / "instance"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = default_env(folder, REDIS_URL=redis_url, OPTINTEL_ALLOW_PRIVATE_TARGETS="1",
                               OPTINTEL_RECONCILE_SECONDS="0.5")
        self.procs, self.http = {}, urllib3.PoolManager(retries=False, timeout=20)

    def start(self):
        # The schema first, with keys of its own, so that the instance folder is still empty
        # when the web server and the worker start together.
        migrating = dict(self.env, OPTINTEL_INSTANCE=str(self.folder / "migrating"),
                         SECRET_KEY="only-for-the-migration")
        upgrade = flask(migrating, "db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        assert not self.instance.exists()
        for name, argv in (("web", [sys.executable, "-m", "gunicorn", "--bind",
                                    f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "4",
                                    "app:app"]),
                           ("worker", [sys.executable, "-m", "flask", "worker"])):
            log = open(self.folder / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log,
                                                stderr=log)
            log.close()
        wait_for(self._healthy, timeout=60, message="the web server")
        created = flask(self.env, "users", "create", ADMIN, "--password", PASSWORD, "--role",
                        "global_admin")
        assert created.returncode == 0, created.stderr
        issued = flask(self.env, "api-keys", "create", ADMIN)
        assert issued.returncode == 0, issued.stderr
        self.api_key = issued.stdout.splitlines()[-1]
        return self

    def api(self, method, path, body):
        """A JSON API call with the admin's key; (status, answer)."""
        response = self.http.request(method, f"{self.url}/api/v1{path}", json=body,
                                     headers={"Authorization": f"Bearer {self.api_key}"})
        return response.status, response.json()

    def _healthy(self):
        try:
            return self.get("/healthz").status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def get(self, path, cookie=None):
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        return self.http.request("GET", self.url + path, headers=headers, redirect=False)

    def sqlite(self, query):
        """The first value the query finds in the install's database."""
        with sqlite3.connect(self.folder / "optintel.db") as connection:
            return connection.execute(query).fetchone()[0]

    def logs(self):
        return "\n".join(path.read_text(errors="replace")
                         for path in sorted(self.folder.glob("*.log")))

    def stop(self):
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    """A default install started once for this module, with its own redis-server (the other
    tests' workers must not take its jobs)."""
    folder = tmp_path_factory.mktemp("default-install")
    redis = RedisServer(folder)
    redis.start()
    install = Install(folder, redis.url)
    try:
        yield install.start()
    finally:
        install.stop()
        redis.stop()
        print("---- logs of the default install ----\n" + install.logs())


def forged_session(secret_key, user_id):
    """A session cookie for that user id, signed with that key as Flask signs its own."""
    forger = Flask("forger")
    forger.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


def test_a_cookie_forged_with_the_old_source_key_opens_no_admin_page(install):
    admin_id = 1  # the first user of a new database
    for path in ("/users/", "/settings/opt-intel/settings", "/api-keys/"):
        response = install.get(path, cookie=forged_session(OLD_SOURCE_KEY, admin_id))
        assert response.status == 302, (path, response.status)
        assert re.match(r"(http://127\.0\.0\.1:\d+)?/login", response.headers["Location"])
    # Signed with the install's own key, the same cookie opens them (whichever of gunicorn's
    # two workers answers): only the key differs.
    own_key = (install.instance / "secret_key").read_text().strip()
    for _ in range(5):
        for path in ("/users/", "/settings/opt-intel/settings", "/api-keys/"):
            assert install.get(path, cookie=forged_session(own_key, admin_id)).status == 200, path


def test_the_first_start_wrote_keys_that_only_their_owner_reads(install):
    files = sorted(path.name for path in install.instance.iterdir())
    assert [name for name in files if "key" in name] == ["encryption_keys", "secret_key"]
    for name in ("encryption_keys", "secret_key"):
        assert stat.S_IMODE((install.instance / name).stat().st_mode) == 0o600, name
    secret_key = (install.instance / "secret_key").read_text().strip()
    (encryption_key,) = (install.instance / "encryption_keys").read_text().split()
    assert len(secret_key) >= 40 and secret_key != OLD_SOURCE_KEY
    Fernet(encryption_key)  # a valid key
    derived = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()
    assert encryption_key not in (secret_key, derived)


def test_a_secret_the_web_server_stored_is_read_by_the_worker(install, http_sink):
    """The web server and the worker started together: they generated, or read, one key."""
    signing_secret = "whsec_" + base64.b64encode(b"default install, signing secret").decode()
    status, rule = install.api("POST", "/tracking-rules", {
        "level": "project", "scope_id": None, "trigger": "contact_added", "action": "ping_url",
        "action_settings": {"method": "POST", "url": f"{http_sink.url}/hook", "headers": {},
                            "content_type": "json", "body": '{"event": "{{event_id}}"}',
                            "timeout": 10, "signing_secret": signing_secret}})
    assert status == 201, rule
    status, email_list = install.api("POST", "/email-lists", {"name": "Default install"})
    assert status == 201, email_list
    status, added = install.api("POST", f"/email-lists/{email_list['id']}/emails-add",
                                {"emails": ["someone@example.com"]})
    assert status == 200 and added["added"] == 1, added

    (request,) = wait_for(lambda: http_sink.received("/hook"), timeout=60,
                          message="the worker's signed request")
    Webhook(signing_secret).verify(request.body, request.headers)  # raises when it differs
    raw = install.sqlite("SELECT secret_settings FROM tracking_rules")
    assert signing_secret.encode() not in raw.encode()
    with pytest.raises(InvalidToken):
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(OLD_SOURCE_KEY.encode()).digest())) \
            .decrypt(raw.encode())
