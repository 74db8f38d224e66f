"""SMTP email: a message through the project's default SMTP connection or a custom one."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from wtforms import Form, PasswordField, SelectField, StringField, TextAreaField
from wtforms.widgets import PasswordInput

from .. import secrets
from ..models import ActionType, ProjectSettings
from ..normalize import InvalidContact, normalize_email
from .. import placeholders
from .base import MASK, Action, Outcome, choice, integer, target_host, templated_text, text
from .target_policy import RefusedTarget, resolve

SECURITY = ("none", "starttls", "tls")


def split_addresses(value):
    """Addresses from a list, or from text separated by commas or new lines."""
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    if not isinstance(value, list):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()]


class SmtpForm(Form):
    connection = SelectField("SMTP Connection", choices=[("default", "Project default"),
                                                         ("custom", "Custom")], default="default")
    host = StringField("Host")
    port = StringField("Port", default="587")
    security = SelectField("Security", choices=[("starttls", "STARTTLS"), ("tls", "TLS"),
                                                ("none", "None")], default="starttls")
    username = StringField("Username")
    password = PasswordField("Password", widget=PasswordInput(hide_value=False))
    from_ = StringField("From", name="from")
    to = TextAreaField("To", description="One address a line; {{email}} sends to the contact.")
    subject = StringField("Subject")
    body = TextAreaField("Body")


class SmtpEmail(Action):
    key = ActionType.SMTP
    label = "SMTP email"
    Form = SmtpForm
    secrets = ("password",)
    templated = ("to", "subject", "body")
    reply_label = "SMTP reply"
    settings_doc = ("{connection: default|custom, host, port, security: none|starttls|tls, "
                    "username, password, from, to: [..], subject, body}; the password belongs to "
                    "the host, port, security and username")
    secret_fields = ("password",)
    binding_note = ("Changing the host, port, security or user drops the stored password unless "
                    "you type it again.")

    def validate(self, raw, context, errors):
        connection = choice(raw, "connection", errors, ("default", "custom"), default="default")
        settings = {"connection": connection, "host": "", "port": None, "security": None,
                    "username": "", "password": ""}
        if connection == "custom":
            settings.update(
                host=text(raw, "host", errors, limit=255),
                port=integer(raw, "port", errors, 1, 65535, 587),
                security=choice(raw, "security", errors, SECURITY, default="starttls"),
                username=text(raw, "username", errors, required=False, limit=255),
                password=text(raw, "password", errors, required=False, limit=255))
            if settings["host"]:
                target_host(settings["host"], settings["port"], "host", errors, context.policy)
        elif connection == "default" and not ProjectSettings.get().smtp_host:
            errors.add("connection", "Set the default SMTP connection in Project Settings > "
                                     "Opt-Intel first, or choose a custom connection.")
        settings["from"] = self._address(raw, "from", errors)
        settings["to"] = self._recipients(raw.get("to"), errors)
        settings["subject"] = templated_text(raw, "subject", errors, limit=998)
        settings["body"] = templated_text(raw, "body", errors, limit=100_000)
        return settings

    def target(self, settings):
        """A custom connection's host, port, security and user: its password belongs to them."""
        if settings.get("connection", "default") != "custom":
            return ("default",)
        return (str(settings.get("host") or "").strip().lower().rstrip("."),
                str(settings.get("port") or 587).strip(), settings.get("security") or "starttls",
                str(settings.get("username") or "").strip())

    @staticmethod
    def _address(raw, key, errors):
        value = text(raw, key, errors, limit=254)
        if value:
            try:
                return normalize_email(value)
            except InvalidContact as exc:
                errors.add(key, str(exc))
        return value

    @staticmethod
    def _recipients(value, errors):
        recipients = split_addresses(value)
        if not recipients:
            errors.add("to", "Give at least one recipient.")
        for recipient in recipients:
            unknown = placeholders.unknown(recipient)
            if unknown:
                errors.add("to", f"Unknown placeholder {{{{{unknown[0]}}}}}.")
                continue
            try:
                normalize_email(placeholders.render(recipient, placeholders.SAMPLES))
            except InvalidContact as exc:
                errors.add("to", f"{recipient}: {exc}")
        return recipients

    def summary(self, settings, viewer=None):
        via = "default SMTP" if settings["connection"] == "default" else \
            f"{settings['host']}:{settings['port']} ({settings['security']})"
        return f"To {', '.join(settings['to'])} · from {settings['from']} · " \
               f"“{settings['subject']}” · via {via}"

    def form_data(self, settings):
        return {**settings, "from_": settings.get("from"), "to": "\n".join(settings.get("to") or [])}

    def from_form(self, form):
        raw = super().from_form(form)
        raw["from"] = raw.pop("from_")
        return raw

    def form_field(self, setting):
        # "from" is a Python keyword: the form calls its field from_.
        return "from_" if setting == "from" else setting

    def host(self, settings):
        return settings["host"] if settings["connection"] == "custom" else ProjectSettings.get().smtp_host

    def prepared_from(self, public_settings):
        """The default connection, for a rule that sends through it."""
        if public_settings.get("connection", "default") != "default":
            return None
        default = ProjectSettings.get()
        return (default.smtp_host, default.smtp_port, default.smtp_security,
                default.smtp_username, default.smtp_password_encrypted)

    def prepare(self, settings):
        if settings["connection"] != "default":
            return settings
        default = ProjectSettings.get()
        return {**settings, "host": default.smtp_host, "port": default.smtp_port,
                "security": default.smtp_security, "username": default.smtp_username,
                "password": secrets.decrypt(default.smtp_password_encrypted)}

    def execute(self, work):
        settings, values = work.settings, work.values
        recipients = [r for r in (placeholders.render(t, values).strip() for t in settings["to"]) if r]
        message = EmailMessage()
        message["From"], message["To"] = settings["from"], ", ".join(recipients)
        message["Subject"] = " ".join(placeholders.render(settings["subject"], values).splitlines())
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid()
        message.set_content(placeholders.render(settings["body"], values))
        request = {"host": settings["host"], "port": settings["port"],
                   "security": settings["security"], "username": settings["username"],
                   "password": MASK if settings["password"] else "", "from": settings["from"],
                   "to": recipients, "subject": message["Subject"],
                   "body": message.get_content()[:4096]}
        if not recipients:
            return Outcome(False, request, permanent=True,
                           error="No recipient once placeholders are filled in.")
        try:
            reply = send_message(settings, message, recipients, work.policy)
        except RefusedTarget as exc:
            return Outcome(False, request, error=str(exc), permanent=True)
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, request, response_status=exc.smtp_code,
                           response_body=exc.smtp_error.decode(errors="replace"), error=str(exc))
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, request, error=f"{type(exc).__name__}: {exc}")
        return Outcome(True, request, response_status=250, response_body=reply)


class _ToCheckedAddress:
    """Connects to the address that the target policy checked, while TLS (smtplib's `_host`)
    verifies the certificate against the host name."""

    def __init__(self, host, address, port, **kwargs):
        self.checked_address = address
        super().__init__(host, port, **kwargs)

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self.checked_address, port, timeout)


class _CheckedSMTP(_ToCheckedAddress, smtplib.SMTP):
    pass


class _CheckedSMTPSSL(_ToCheckedAddress, smtplib.SMTP_SSL):
    pass


def send_message(settings, message, recipients, policy):
    """Send through the connection of the settings, to an address the policy allows; the
    server's reply to the message (and the recipients it refused, if some). Raises
    RefusedTarget before any connection when the host may not be reached, and SMTP or OS
    errors when the connection, the login, every recipient or the message is refused."""
    security, timeout, host, port = settings["security"], 30, settings["host"], settings["port"]
    address = resolve(host, port, policy)
    if security == "tls":
        client = _CheckedSMTPSSL(host, address, port, timeout=timeout,
                                 context=ssl.create_default_context())
    else:
        client = _CheckedSMTP(host, address, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings["username"]:
            client.login(settings["username"], settings["password"])
        client.ehlo_or_helo_if_needed()
        code, reply = client.mail(settings["from"])
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, settings["from"])
        refused = {}
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    refused_text = "; ".join(f"refused {r}: {c} {m.decode(errors='replace')}"
                             for r, (c, m) in refused.items())
    return " ".join(filter(None, [f"{code} {reply.decode(errors='replace')}", refused_text]))
