"""What every response tells the browser: a Content-Security-Policy that allows no inline
script or style and no framing, no MIME sniffing, no address of ours for other sites; over
HTTPS, a Secure session cookie and HSTS. Behind OPTINTEL_TRUSTED_PROXIES reverse proxies, their
X-Forwarded-For, -Proto and -Host headers give the client's address, scheme and host."""
from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    # Addresses carry contacts in their query (searches, log filters): none leaves the site.
    "Referrer-Policy": "same-origin",
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session whose cookie is Secure whenever the request came over
    HTTPS (or SESSION_COOKIE_SECURE says always)."""

    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def add_headers(response):
    """The security headers of every response."""
    response.headers.update(HEADERS)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response


def init_app(app):
    app.session_interface = SessionInterface()
    app.after_request(add_headers)
    proxies = app.config["OPTINTEL_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
