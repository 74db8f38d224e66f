"""A default install, as `make run` starts it: SQLite, no key in the environment, gunicorn with
two workers and an RQ worker starting at the same moment against an empty instance folder."""
import os
import re
import subprocess
import sys

import pytest
import urllib3
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.conftest import ROOT, RedisServer, free_port, wait_for

KEY_VARIABLES = ("SECRET_KEY", "OPTINTEL_ENCRYPTION_KEY", "OPTINTEL_ENCRYPTION_KEYS")
OLD_SOURCE_KEY = "dev-only-secret-key-change-me"
ADMIN, PASSWORD = "admin@example.com", "a default install's password"


def default_env(folder, **settings):
    """The environment of a default install kept in `folder`: no key variable at all."""
    env = {name: value for name, value in os.environ.items() if name not in KEY_VARIABLES}
    env.update(FLASK_APP="app.py", DATABASE_URL=f"sqlite:///{folder / 'optintel.db'}",
               OPTINTEL_INSTANCE=str(folder / "instance"), PYTHONUNBUFFERED="1", **settings)
    return env


def flask(env, *args):
    """Run `flask ARGS...` from the repository root; the finished process."""
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


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
        return self

    def _healthy(self):
        try:
            return self.get("/healthz").status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def get(self, path, cookie=None):
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        return self.http.request("GET", self.url + path, headers=headers, redirect=False)

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
    # Signed with the install's own key, the same cookie opens them: only the key differs.
    own_key = (install.instance / "secret_key").read_text().strip()
    for path in ("/users/", "/settings/opt-intel/settings", "/api-keys/"):
        assert install.get(path, cookie=forged_session(own_key, admin_id)).status == 200, path
