"""Ping URL: an HTTP GET or POST to a URL, optionally signed as Standard Webhooks says."""
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import unquote, urlencode, urlsplit

from standardwebhooks import Webhook
from urllib3.util import make_headers
from wtforms import Form, PasswordField, SelectField, StringField, TextAreaField
from wtforms.widgets import PasswordInput

from ..models import ActionType
from .. import placeholders
from . import http
from .base import (MASK, TARGET_CHANGED, Action, Outcome, choice, http_url, integer,
                   known_placeholders, templated_text, text)
from .credentials import credential_like, masked_url, restored_url, url_target

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded",
                 "text": "text/plain; charset=utf-8"}


def parse_header_lines(value):
    """{name: value} from 'Name: value' lines."""
    headers = {}
    for line in (value or "").splitlines():
        if line.strip():
            name, _, val = line.partition(":")
            headers[name.strip()] = val.strip()
    return headers


def secret_names(settings):
    """The lower-cased names of the settings' secret headers: those marked, and the
    credential-like ones (rules saved before headers could be marked have only those)."""
    headers = settings.get("headers") or {}
    marked = {n.lower() for n in settings.get("secret_headers") or () if isinstance(n, str)}
    return {n.lower() for n in headers if n.lower() in marked or credential_like(n)}


class PingUrlForm(Form):
    method = SelectField("Method", choices=[("GET", "GET"), ("POST", "POST")], default="POST")
    url = StringField("URL", render_kw={"placeholder": "https://example.com/hook?email={{email}}"})
    headers = TextAreaField("Headers", description="One 'Name: value' a line.")
    secret_headers = StringField(
        "Secret Headers", description="Names of headers whose values are secrets (stored "
        "encrypted, shown as ********), comma-separated. Authorization, X-Api-Key, Cookie and "
        "names with token, secret, password, key or signature always are.")
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
    on_sending_loop = True
    secret_fields = ("headers", "signing_secret")
    templated = ("url", "headers", "body")
    binding_note = ("Changing the URL's host drops the stored secrets unless you type them again "
                    "(its scheme or port too).")
    settings_doc = ("{method: GET|POST, url, headers: {name: value}, secret_headers: [names of "
                    "headers whose values are secrets; credential-like names such as "
                    "Authorization, X-Api-Key, Cookie, *token*, *secret*, *password*, *key*, "
                    "*signature* always are], content_type: json|form|text, body, timeout: 1-30 "
                    "(default 10), signing_secret}; the URL's userinfo and the values of its "
                    "credential-like query parameters (token, api_key, key, secret, password, "
                    "sig ...) are secrets too; the secrets belong to the URL's scheme, host and "
                    "port")

    def validate(self, raw, context, errors):
        method = choice(raw, "method", errors, ("GET", "POST"), default="POST")
        headers = self._headers(raw.get("headers"), errors)
        settings = {"method": method, "url": http_url(raw, "url", errors, context.policy),
                    "headers": headers,
                    "secret_headers": self._secret_headers(raw.get("secret_headers"), headers,
                                                           errors),
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
    def _secret_headers(value, headers, errors):
        """The names of the secret headers, as the headers spell them: those marked (a list, or
        text separated by commas or spaces) and the credential-like ones."""
        if value is None or isinstance(value, str):
            value = re.split(r"[\s,]+", value.strip()) if value and value.strip() else []
        if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
            errors.add("secret_headers", "Give the names of the secret headers as a list.")
            value = []
        names = {name.lower(): name for name in headers}
        unknown = [n for n in value if n.lower() not in names]
        if unknown:
            errors.add("secret_headers", f"Not among the headers: {', '.join(unknown)}.")
        marked = {n.lower() for n in value}
        return [name for name in headers if name.lower() in marked or credential_like(name)]

    @staticmethod
    def _check_json(body, errors):
        if placeholders.unknown(body):
            return
        try:
            json.loads(placeholders.render(body, placeholders.SAMPLES, "json"))
        except ValueError as exc:
            errors.add("body", f"Not valid JSON once placeholders are filled in: {exc}.")

    # Secrets: the signing secret, the values of secret headers, the URL's credentials.

    def split(self, settings):
        public, secret = super().split(settings)
        headers, names = settings.get("headers") or {}, secret_names(settings)
        public["headers"] = {k: v for k, v in headers.items() if k.lower() not in names}
        if any(k.lower() in names for k in headers):
            secret["headers"] = {k: v for k, v in headers.items() if k.lower() in names}
        public["url"] = masked_url(settings["url"])
        if public["url"] != settings["url"]:
            secret["url"] = settings["url"]
        return public, secret

    def merge(self, public, secret):
        headers = {**(public.get("headers") or {}), **(secret.get("headers") or {})}
        merged = super().merge(public, {k: v for k, v in secret.items() if k in self.secrets})
        merged.update(headers=headers, url=secret.get("url") or public.get("url"))
        merged["secret_headers"] = [k for k in headers if k.lower() in secret_names(merged)]
        return merged

    def mask(self, settings):
        masked = super().mask(settings)
        names = secret_names(settings)
        masked["headers"] = {k: (MASK if k.lower() in names and v else v)
                             for k, v in (settings.get("headers") or {}).items()}
        masked["url"] = masked_url(settings.get("url"))
        return masked

    def target(self, settings):
        return url_target(settings.get("url"))

    def unmask(self, raw, stored, errors):
        bound = self.bound(raw, stored)
        raw = super().unmask(raw, stored, errors)
        headers = raw.get("headers")
        if isinstance(headers, str):
            headers = parse_header_lines(headers)
        if isinstance(headers, dict):
            stored_headers, names = stored.get("headers") or {}, secret_names(stored)
            secret = {k.lower(): v for k, v in stored_headers.items() if k.lower() in names}
            masked = [k for k, v in headers.items() if v == MASK and k.lower() in secret]
            for name in masked:
                headers[name] = secret[name.lower()] if bound else ""
            if masked and not bound:
                errors.add("headers", TARGET_CHANGED)
            raw["headers"] = headers
        url = raw.get("url")
        if isinstance(url, str) and MASK in url:
            stored_url = stored.get("url") or ""
            raw["url"] = restored_url(url, stored_url if bound else "")
            if not bound and masked_url(stored_url) != stored_url:
                errors.add("url", TARGET_CHANGED)
        return raw

    def placeholders_used(self, settings):
        names = []
        for value in [settings.get("url"), *(settings.get("headers") or {}).values(),
                      settings.get("body")]:
            names += [n for n in placeholders.used(value) if n not in names]
        return names

    def summary(self, settings, viewer=None):
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
        data["secret_headers"] = ", ".join(settings.get("secret_headers") or [])
        return data

    def host(self, settings):
        return urlsplit(settings["url"]).hostname or ""

    async def execute_async(self, work):
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
        basic = basic_auth(url)
        if basic and not any(name.lower() == "authorization" for name in headers):
            headers["Authorization"] = basic
        result = await http.send_async(settings["method"], url, headers, body, settings["timeout"],
                                       work.policy)
        names = secret_names(settings)
        request = {"method": settings["method"], "url": masked_url(url),
                   "headers": {k: (MASK if k.lower() in names or credential_like(k) else v)
                               for k, v in headers.items()},
                   "body": body[:http.BODY_EXCERPT]}
        return http_outcome(result, request)


def basic_auth(url):
    """The Authorization header that a URL's userinfo stands for (HTTP Basic), or None."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    return make_headers(basic_auth=f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                        )["authorization"]


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
            "webhook-signature": _signer(secret).sign(msg_id, now, body)}


@lru_cache(maxsize=256)
def _signer(secret):
    """The Standard Webhooks signer of a secret, made once (it decodes the secret)."""
    return Webhook(secret)


def http_outcome(result, request):
    """An Outcome from an HTTP result: a 2xx answer is success."""
    return Outcome(succeeded=result.status is not None and 200 <= result.status < 300,
                   request=request, response_status=result.status,
                   response_headers=result.headers, response_body=result.body,
                   error=result.error, retry_after=result.retry_after,
                   permanent=result.refused)
