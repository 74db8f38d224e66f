"""Rate limits of the public pages, per client address (OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS):
every request of an unsubscribe link counts, GET or POST; at the SMS webhooks only requests
refused for their signature count, so that Twilio's own are never held back, however many
replies come at once."""
from flask import make_response

from .. import rate_limits
from .pages import render

SETTING = "OPTINTEL_PUBLIC_LIMIT_PER_ADDRESS"
UNSUBSCRIBE_ENDPOINTS = ("public.unsubscribe_page", "public.unsubscribe")
WEBHOOK_ENDPOINT = "public.sms_inbound"


def _page_too_many(limit):
    """The public error page, 429, with how long to wait (also as Retry-After)."""
    seconds = rate_limits.seconds_to_wait(limit)
    message = (f"Too many requests from your address; try again in {seconds} "
               f"second{'' if seconds == 1 else 's'}.")
    page = render("public/error.html", title="Too many requests", message=message)
    return make_response(page, 429, {"Retry-After": str(seconds)})


def _webhook_too_many(limit):
    return make_response("Too many requests.", 429, {
        "Retry-After": str(rate_limits.seconds_to_wait(limit)), "Content-Type": "text/plain"})


def _refused(response):
    return response.status_code == 403


def init_app(app):
    """Limit the public views of the app (registered before)."""
    limiter = rate_limits.limiter(app)

    def per_address():
        return app.config[SETTING]

    shared = limiter.shared_limit(per_address, scope="unsubscribe", on_breach=_page_too_many)
    for endpoint in UNSUBSCRIBE_ENDPOINTS:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.view_functions[WEBHOOK_ENDPOINT] = limiter.limit(
        per_address, deduct_when=_refused, on_breach=_webhook_too_many,
    )(app.view_functions[WEBHOOK_ENDPOINT])
