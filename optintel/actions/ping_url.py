"""Ping URL: an HTTP GET or POST to a URL, optionally signed as Standard Webhooks says."""
import json
import re
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from standardwebhooks import Webhook
from wtforms import Form, PasswordField, SelectField, StringField, TextAreaField
from wtforms.widgets import PasswordInput

from ..models import ActionType
from .. import placeholders
from . import http
from .base import (MASK, Action, Outcome, choice, http_url, integer, known_placeholders,
                   templated_text, text)

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
SECRET_HEADER = re.compile(r"authorization|token|secret|api[-_]?key|password|cookie|signature",
                           re.IGNORECASE)
CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded",
                 "text": "text/plain; charset=utf-8"}


def is_secret_header(name):
    return bool(SECRET_HEADER.search(name))


def parse_header_lines(value):
    """{name: value} from 'Name: value' lines."""
    headers = {}
    for line in (value or "").splitlines():
        if line.strip():
            name, _, val = line.partition(":")
            headers[name.strip()] = val.strip()
    return headers


class PingUrlForm(Form):
    method = SelectField("Method", choices=[("GET", "GET"), ("POST", "POST")], default="POST")
    url = StringField("URL", render_kw={"placeholder": "https://example.com/hook?email={{email}}"})
    headers = TextAreaField("Headers", description="One 'Name: value' a line.")
    content_type = SelectField("Content Type", choices=[("json", "JSON"), ("form", "Form"),
                                                         ("text", "Plain text")], default="json")
    body = TextAreaField("Body", description='For POST, e.g. {"email": "{{email}}"}')
    timeout = StringField("Timeout (seconds)", default="10")
    signing_secret = PasswordField("Signing Secret", widget=PasswordInput(hide_value=False),
                                   description="Optional: a Standard Webhooks secret (whsec_...).")


class PingUrl(Action):
    key = ActionType.PING_URL
    label = "Ping URL"
    Form = PingUrlForm
    secrets = ("signing_secret",)
    settings_doc = ("{method: GET|POST, url, headers: {name: value}, content_type: json|form|text, "
                    "body, timeout: 1-30 (default 10), signing_secret}")

    def validate(self, raw, context, errors):
        method = choice(raw, "method", errors, ("GET", "POST"), default="POST")
        settings = {"method": method, "url": http_url(raw, "url", errors, context.policy),
                    "headers": self._headers(raw.get("headers"), errors),
                    "timeout": integer(raw, "timeout", errors, 1, 30, 10),
                    "content_type": None, "body": ""}
        if method == "POST":
            settings["content_type"] = choice(raw, "content_type", errors, tuple(CONTENT_TYPES),
                                              default="json")
            settings["body"] = templated_text(raw, "body", errors, required=False, limit=100_000)
            if settings["content_type"] == "json" and settings["body"]:
                self._check_json(settings["body"], errors)
        secret = text(raw, "signing_secret", errors, required=False, limit=200)
        if secret:
            try:
                Webhook(secret)
            except Exception:
                errors.add("signing_secret", "Not a Standard Webhooks secret (base64, optionally "
                                             "prefixed whsec_).")
        settings["signing_secret"] = secret
        return settings

    @staticmethod
    def _headers(value, errors):
        if value in (None, ""):
            return {}
        if isinstance(value, str):
            value = parse_header_lines(value)
        if not isinstance(value, dict):
            errors.add("headers", "Give headers as {name: value}.")
            return {}
        headers = {}
        for name, val in value.items():
            if not isinstance(name, str) or not TOKEN.match(name):
                errors.add("headers", f"{name!r} is not a valid header name.")
            elif not isinstance(val, str) or "\r" in val or "\n" in val:
                errors.add("headers", f"The value of {name} must be one line of text.")
            else:
                known_placeholders(val, "headers", errors)
                headers[name] = val
        return headers

    @staticmethod
    def _check_json(body, errors):
        if placeholders.unknown(body):
            return
        try:
            json.loads(placeholders.render(body, placeholders.SAMPLES, "json"))
        except ValueError as exc:
            errors.add("body", f"Not valid JSON once placeholders are filled in: {exc}.")

    # Secrets: the signing secret and the values of headers named like credentials.

    def split(self, settings):
        public, secret = super().split(settings)
        headers = settings.get("headers") or {}
        public["headers"] = {k: v for k, v in headers.items() if not is_secret_header(k)}
        secret_headers = {k: v for k, v in headers.items() if is_secret_header(k)}
        if secret_headers:
            secret["headers"] = secret_headers
        return public, secret

    def merge(self, public, secret):
        headers = {**(public.get("headers") or {}), **(secret.get("headers") or {})}
        return {**super().merge(public, {k: v for k, v in secret.items() if k != "headers"}),
                "headers": headers}

    def mask(self, settings):
        masked = super().mask(settings)
        masked["headers"] = {k: (MASK if is_secret_header(k) and v else v)
                             for k, v in (settings.get("headers") or {}).items()}
        return masked

    def unmask(self, raw, stored):
        raw = super().unmask(raw, stored)
        headers = raw.get("headers")
        if isinstance(headers, str):
            headers = parse_header_lines(headers)
        if isinstance(headers, dict):
            stored_headers = stored.get("headers") or {}
            raw["headers"] = {k: (stored_headers.get(k, "") if v == MASK else v)
                              for k, v in headers.items()}
        return raw

    def placeholders_used(self, settings):
        names = []
        for value in [settings.get("url"), *(settings.get("headers") or {}).values(),
                      settings.get("body")]:
            names += [n for n in placeholders.used(value) if n not in names]
        return names

    def summary(self, settings):
        parts = [f"{settings['method']} {settings['url']}"]
        if settings.get("headers"):
            parts.append("headers: " + ", ".join(f"{k}: {v}" for k, v in settings["headers"].items()))
        if settings["method"] == "POST":
            parts.append(f"{settings.get('content_type')} body")
        parts.append(f"timeout {settings.get('timeout', 10)} s")
        if settings.get("signing_secret"):
            parts.append("signed")
        return " · ".join(parts)

    def form_data(self, settings):
        data = dict(settings)
        data["headers"] = "\n".join(f"{k}: {v}" for k, v in (settings.get("headers") or {}).items())
        return data

    def host(self, settings):
        return urlsplit(settings["url"]).hostname or ""

    def execute(self, work):
        settings, values = work.settings, work.values
        url = placeholders.render(settings["url"], values, "url")
        headers = {name: " ".join(placeholders.render(value, values).splitlines())
                   for name, value in settings["headers"].items()}
        body = ""
        if settings["method"] == "POST":
            body = render_body(settings["content_type"], settings["body"], values)
            headers.setdefault("Content-Type", CONTENT_TYPES[settings["content_type"]])
        if settings.get("signing_secret"):
            headers.update(signature_headers(settings["signing_secret"], work.delivery_id, body))
        result = http.send(settings["method"], url, headers, body, settings["timeout"], work.policy)
        request = {"method": settings["method"], "url": url,
                   "headers": {k: (MASK if is_secret_header(k) else v) for k, v in headers.items()},
                   "body": body[:http.BODY_EXCERPT]}
        return http_outcome(result, request)


def render_body(content_type, template, values):
    """The POST body: the template with values escaped for the content type; without a
    template, every placeholder value in that content type."""
    if content_type == "json":
        return placeholders.render(template, values, "json") if template else json.dumps(values)
    if content_type == "form":
        return placeholders.render(template, values, "url") if template else urlencode(values)
    return placeholders.render(template, values)


def signature_headers(secret, delivery_id, body):
    """Standard Webhooks headers; the id is the delivery's, the same on every retry."""
    msg_id, now = str(delivery_id), datetime.now(timezone.utc)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body)}


def http_outcome(result, request):
    """An Outcome from an HTTP result: a 2xx answer is success."""
    return Outcome(succeeded=result.status is not None and 200 <= result.status < 300,
                   request=request, response_status=result.status,
                   response_headers=result.headers, response_body=result.body,
                   error=result.error, retry_after=result.retry_after,
                   permanent=result.refused)
