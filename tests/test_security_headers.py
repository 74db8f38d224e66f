"""Every response forbids inline script and framing, MIME sniffing and leaking its address to
other sites; the session cookie is Secure when the app is served over HTTPS, a reverse proxy's
word for it trusted only when configured; no template needs inline script or style."""
import html
import json
import re
from pathlib import Path

import pytest

from tests.conftest import WebClient

ROOT = Path(__file__).resolve().parent.parent
REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def directives(policy):
    """{directive: [sources]} of a Content-Security-Policy."""
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name.lower()] = sources
    return parsed


def assert_protected(response):
    policy = directives(response.headers["Content-Security-Policy"])
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts == ["'self'"], policy
    styles = policy.get("style-src", policy.get("default-src"))
    assert styles == ["'self'"], policy
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in REFERRER_POLICIES


@pytest.fixture
def responses(as_admin, api, make_list):
    """One response of each kind: pages, an htmx fragment, JSON, static files, redirects,
    errors."""
    lst = make_list()
    anonymous = as_admin.application.test_client()
    return {
        "page": as_admin.get("/"),
        "list contacts": as_admin.get(f"/lists/email/{lst.id}/contacts?q=a"),
        "htmx fragment": as_admin.htmx("GET", "/logs/"),
        "api": api.get("/email-lists"),
        "openapi": anonymous.get("/api/v1/openapi.json"),
        "api 401": anonymous.get("/api/v1/email-lists"),
        "static": anonymous.get("/static/app.js"),
        "login redirect": anonymous.get("/"),
        "login page": anonymous.get("/login"),
        "404 page": as_admin.get("/no/such/page"),
        "csrf 400": anonymous.post("/login", data={"email": "a@example.com", "password": "x"}),
        "health": anonymous.get("/healthz"),
    }


def test_every_kind_of_response_carries_the_headers(responses):
    # /healthz answers 200 or 503 by the workers' state; either way it carries the headers.
    assert {name: r.status_code for name, r in responses.items() if name != "health"} == {
        "page": 200, "list contacts": 200, "htmx fragment": 200, "api": 200, "openapi": 200,
        "api 401": 401, "static": 200, "login redirect": 302, "login page": 200,
        "404 page": 404, "csrf 400": 400}
    for name, response in responses.items():
        try:
            assert_protected(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc


def session_cookie(response):
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return [part.strip().lower() for part in cookie.split(";")]


def test_the_session_cookie_is_secure_over_https_only(app):
    client = app.test_client()
    assert "secure" in session_cookie(client.get("/login", base_url="https://opt-intel.example"))
    over_http = session_cookie(client.get("/login", base_url="http://opt-intel.example"))
    assert "secure" not in over_http
    assert "httponly" in over_http and "samesite=lax" in over_http


def test_a_forwarded_https_is_ignored_unless_a_proxy_is_trusted(app_config, request):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    app_config.OPTINTEL_TRUSTED_PROXIES = 0
    untrusting = request.getfixturevalue("app")
    assert "secure" not in session_cookie(untrusting.test_client().get("/login",
                                                                       headers=forwarded))


def test_behind_a_trusted_proxy_its_https_and_client_address_count(app_config, request):
    app_config.OPTINTEL_TRUSTED_PROXIES = 1
    app = request.getfixturevalue("app")
    make_user = request.getfixturevalue("make_user")
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # The client address that throttling counts is the one the proxy saw.
    web, user = WebClient(app.test_client()), make_user()
    for n in range(20):
        response = web.client.post("/login", headers={"X-Forwarded-For": "198.51.100.4"},
                                   data={"email": f"nobody{n}@example.com", "password": "wrong",
                                         "csrf_token": web.csrf})
        assert response.status_code == 200
    refused = web.client.post("/login", headers={"X-Forwarded-For": "198.51.100.4"},
                              data={"email": user.email, "password": "x", "csrf_token": web.csrf})
    assert refused.status_code == 429
    other = web.client.post("/login", headers={"X-Forwarded-For": "198.51.100.5"},
                            data={"email": user.email, "password": "x", "csrf_token": web.csrf})
    assert other.status_code == 200


def test_no_strict_transport_security_over_http(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers


INLINE = {
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style", re.I),
    "hx-on": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "js: value": re.compile(r"""hx-vals\s*=\s*["']js:""", re.I),
}


def test_no_template_needs_inline_script_or_style():
    found = [f"{path.relative_to(ROOT)}: {what}"
             for path in sorted((ROOT / "templates").rglob("*.html"))
             for what, pattern in INLINE.items() if pattern.search(path.read_text())]
    assert found == []


def test_htmx_is_configured_not_to_inject_styles_or_eval(as_admin):
    page = as_admin.get("/").get_data(as_text=True)
    config = re.search(r"""<meta name="htmx-config" content=(["'])(.*?)\1""", page).group(2)
    assert json.loads(html.unescape(config)) == {
        "includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}
