"""Throttling of failed logins, per account and per client address: Flask-Limiter counting in
the app's Redis, so that every web process sees the same counts. Only failed logins count.

When Redis cannot be reached the counts go on in the memory of each web process (Flask-Limiter
logs a warning, and that it recovered): logins still work, and are still throttled, per
process, until Redis is back."""
import hashlib

from flask import g, make_response, render_template, request

from .. import rate_limits
from .forms import LoginForm

LOGIN_ENDPOINT = "auth.login_page"
LIMITS = (("OPTINTEL_LOGIN_LIMIT_PER_ACCOUNT", "account"),
          ("OPTINTEL_LOGIN_LIMIT_PER_ADDRESS", "address"))


def count_failure():
    """Count the current login attempt as failed, against both limits."""
    g.login_failed = True


def _failed(response):
    return g.get("login_failed", False)


def _account():
    """The account a login names, as a digest: Redis keys and Flask-Limiter's log lines hold no
    email address."""
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _too_many(limit):
    """The login page, 429, with how long to wait (also as Retry-After)."""
    seconds = rate_limits.seconds_to_wait(limit)
    form = LoginForm()
    form.form_errors.append(f"Too many failed logins; try again in {seconds} "
                            f"second{'' if seconds == 1 else 's'}.")
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app):
    """Throttle the login view of the app (registered before) by its limits settings."""
    limiter = rate_limits.limiter(app)
    view = app.view_functions[LOGIN_ENDPOINT]
    for setting, by in LIMITS:
        view = limiter.limit(lambda setting=setting: app.config[setting],
                             key_func=_account if by == "account" else rate_limits.client_address,
                             methods=["POST"], deduct_when=_failed, on_breach=_too_many)(view)
    app.view_functions[LOGIN_ENDPOINT] = view
