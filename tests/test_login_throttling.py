"""Failed logins are throttled per account and per client address, on the app's real Redis; a
successful login costs nothing, and an unknown account costs the same Argon2 work as a wrong
password."""
import re
import time

import argon2
import pytest
from redis import Redis

from optintel import create_app
from optintel.extensions import db
from optintel.models import Role
from optintel.models import users as user_models

from tests.conftest import PASSWORD, WebClient

WRONG = "not the password at all"
MESSAGE = re.compile(r"Too many failed logins; try again in (\d+) seconds?\.")


def attempt(web, email, password, address="127.0.0.1"):
    """POST the login form as a browser at `address` would."""
    return web.client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": web.csrf},
                           environ_base={"REMOTE_ADDR": address})


def log_out(web):
    """Start again as a new browser (no session, a new CSRF token)."""
    web.client.delete_cookie("session")
    web._token = None


def failed(response):
    return response.status_code == 200 and "Wrong email or password." in response.get_data(True)


def throttled(response, since, window=60):
    """The seconds the 429 login page asks to wait: what is left of the `window` opened by the
    first failure counted (sent at `since`, time.time(), or just after), also as Retry-After."""
    assert response.status_code == 429, response.status_code
    page = response.get_data(as_text=True)
    assert 'name="password"' in page, "the 429 answer is the login page"
    seconds = int(MESSAGE.search(page).group(1))
    assert max(1, int(since + window - time.time())) <= seconds <= window, seconds
    assert int(response.headers["Retry-After"]) == seconds
    return seconds


def test_five_failures_of_an_account_in_a_minute_throttle_it(web, make_user, redis_server):
    user = make_user(Role.LIST_OWNER)
    since = time.time()
    for n in range(5):
        assert failed(attempt(web, user.email, WRONG, f"10.0.0.{n}")), n
    # The sixth try is refused before the password is looked at, even the right one and from
    # another address.
    throttled(attempt(web, user.email, PASSWORD, "10.0.1.1"), since)
    throttled(attempt(web, user.email.upper(), WRONG, "10.0.1.2"), since)
    # The counters live in the app's Redis, named by a digest, not by the address typed.
    keys = [k.decode() for k in Redis.from_url(redis_server.url).keys("*")]
    assert keys and not [k for k in keys if user.email in k]
    # Other accounts are not concerned.
    other = make_user(Role.LIST_OWNER)
    assert attempt(web, other.email, PASSWORD, "10.0.1.3").status_code == 302


def test_twenty_failures_from_an_address_in_a_minute_throttle_it(web, make_user):
    user = make_user(Role.LIST_OWNER)
    since = time.time()
    for n in range(20):
        assert failed(attempt(web, f"nobody{n}@example.com", WRONG, "192.0.2.7")), n
    throttled(attempt(web, user.email, PASSWORD, "192.0.2.7"), since)
    assert attempt(web, user.email, PASSWORD, "192.0.2.8").status_code == 302


def test_successful_logins_are_not_counted(web, make_user):
    user = make_user(Role.LIST_OWNER)
    for _ in range(8):
        assert attempt(web, user.email, PASSWORD).status_code == 302
        log_out(web)
    since = time.time()
    for n in range(5):
        assert failed(attempt(web, user.email, WRONG)), n
    throttled(attempt(web, user.email, PASSWORD), since)


def test_a_form_that_is_not_a_login_attempt_is_not_counted(web, make_user):
    """A missing password or CSRF token checks no password, so it spends nothing."""
    user = make_user(Role.LIST_OWNER)
    for _ in range(8):
        response = web.client.post("/login", data={"email": user.email, "password": "",
                                                   "csrf_token": web.csrf})
        assert response.status_code == 200
        response = web.client.post("/login", data={"email": user.email, "password": WRONG})
        assert response.status_code in (200, 400)
    assert attempt(web, user.email, PASSWORD).status_code == 302


def test_the_window_passes(app_config, request):
    app_config.OPTINTEL_LOGIN_LIMIT_PER_ACCOUNT = "2 per 1 second"
    web = WebClient(request.getfixturevalue("app").test_client())
    user = request.getfixturevalue("make_user")(Role.LIST_OWNER)
    since = time.time()
    for _ in range(2):
        assert failed(attempt(web, user.email, WRONG))
    assert throttled(attempt(web, user.email, PASSWORD), since, window=1) == 1
    time.sleep(1.2)
    assert attempt(web, user.email, PASSWORD).status_code == 302


def test_every_web_process_shares_the_counts(app, app_config, make_user):
    """Two apps, as two gunicorn workers are, count the same failures through Redis."""
    user = make_user(Role.LIST_OWNER)
    other_app = create_app(app_config)
    first, second = WebClient(app.test_client()), WebClient(other_app.test_client())
    since = time.time()
    for web in (first, second, first, second, first):
        assert failed(attempt(web, user.email, WRONG))
    throttled(attempt(second, user.email, PASSWORD), since)
    with other_app.app_context():
        db.engine.dispose()


def test_without_redis_logins_still_work_and_failures_are_counted_in_the_process(
        app_without_redis, make_user, caplog):
    web = WebClient(app_without_redis.test_client())
    user = make_user(Role.LIST_OWNER)
    with caplog.at_level("WARNING"):
        assert attempt(web, user.email, PASSWORD).status_code == 302
    assert [r for r in caplog.records if r.levelname == "WARNING" and "in-memory" in r.message]
    log_out(web)
    since = time.time()
    for _ in range(5):
        assert failed(attempt(web, user.email, WRONG))
    throttled(attempt(web, user.email, PASSWORD), since)


class CountingHasher(argon2.PasswordHasher):
    """The suite's Argon2 hasher, recording the hash of every verification."""

    def __init__(self, template):
        params = argon2.extract_parameters(template.hash("x"))
        super().__init__(time_cost=params.time_cost, memory_cost=params.memory_cost,
                         parallelism=params.parallelism)
        self.verified = []

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.mark.parametrize("case", ["unknown", "inactive"])
def test_an_unknown_account_costs_the_same_argon2_work_as_a_wrong_password(
        web, make_user, monkeypatch, case):
    user = make_user(Role.LIST_OWNER)
    inactive = make_user(Role.LIST_OWNER, active=False)
    hasher = CountingHasher(user_models._hasher)
    monkeypatch.setattr(user_models, "_hasher", hasher)

    assert failed(attempt(web, user.email, WRONG))
    [real] = hasher.verified
    email = {"unknown": "nobody@example.com", "inactive": inactive.email}[case]
    for password in (WRONG, PASSWORD):
        hasher.verified.clear()
        assert failed(attempt(web, email, password))
        [other] = hasher.verified
        assert argon2.extract_parameters(other) == argon2.extract_parameters(real)
