"""The public pages, open to anyone without a login: the unsubscribe link (its page and RFC 8058
one-click) and the SMS campaigns' STOP webhooks. A signed token or Twilio's signature is their
authorisation, not a session: they need no cookie and set none."""
from flask import Blueprint
from werkzeug.exceptions import HTTPException

from ..public_urls import check_public_url
from .pages import render

bp = Blueprint("public", __name__)


@bp.errorhandler(HTTPException)
def error_page(exc):
    """Errors of the public pages on the public layout, without the dashboard's menu or links."""
    return render("public/error.html", title=exc.name, message=exc.description), exc.code


def init_app(app):
    """Register the blueprint, with its rate limits, on the app; refuse a malformed
    OPTINTEL_PUBLIC_URL at the start rather than in every link."""
    problem = check_public_url(app.config["OPTINTEL_PUBLIC_URL"])
    if problem:
        raise ValueError(problem)
    app.register_blueprint(bp)
    limits.init_app(app)


from . import limits, sms_webhook, unsubscribe  # noqa: E402,F401
