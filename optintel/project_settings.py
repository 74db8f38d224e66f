"""Changing Project Settings: the default phone region and SMTP connection, the retry schedule
of deliveries, when a failing rule is paused and whom to tell, the networks that actions may
reach although they are not public, and how long the Tracking Log keeps its rows."""
from . import secrets
from .actions.smtp import split_addresses
from .actions.target_policy import parse_networks, project_policy, refusal_at_save
from .ids import as_id
from .models.settings import DEFAULT_RETRY_SCHEDULE
from .normalize import InvalidContact, normalize_email
from .validation import Collector

MAX_DELAYS = 20
MAX_DELAY = 2 * 86400


def _retry_schedule(errors, text):
    """The schedule as "0, 5, 300": whole seconds before each attempt, commas or spaces between;
    left empty, the Standard Webhooks schedule."""
    parts = ((text or "").strip() or DEFAULT_RETRY_SCHEDULE).replace(",", " ").split()
    if not 1 <= len(parts) <= MAX_DELAYS:
        errors.add("retry_schedule", f"Give between 1 and {MAX_DELAYS} delays, in seconds.")
        return ""
    bad = [part for part in parts if not (part.isascii() and part.isdigit())]
    if bad:
        errors.add("retry_schedule", f"Not a whole number of seconds: {', '.join(bad)}.")
        return ""
    delays = [as_id(part) for part in parts]  # None: beyond 2**31 - 1, and so beyond MAX_DELAY
    if any(delay is None or delay > MAX_DELAY for delay in delays):
        errors.add("retry_schedule", f"Each delay is at most {MAX_DELAY:,} seconds (2 days).")
        return ""
    return ", ".join(map(str, delays))


def _networks(errors, text):
    """The allowed networks as stored: one CIDR a line, each once."""
    networks, bad = parse_networks(text)
    if bad:
        errors.add("allowed_target_cidrs", f"Not a network such as 10.0.0.0/8 or fd00::/8: "
                                           f"{', '.join(bad)}.")
    return "\n".join(map(str, networks))


def _smtp_host(errors, host, port, allowed_target_cidrs):
    """The default connection's host, judged as a rule's SMTP host is, by the networks saved
    with it."""
    refusal = host and refusal_at_save(host, port, project_policy(allowed_target_cidrs))
    if refusal:
        errors.add("smtp_host", refusal)
    return host


def _recipients(errors, text):
    """The notification recipients as stored: one normalised address a line, each once."""
    addresses, bad = [], []
    for value in split_addresses(text):
        try:
            address = normalize_email(value)
        except InvalidContact as exc:
            bad.append(f"{value}: {exc}")
            continue
        if address not in addresses:
            addresses.append(address)
    for message in bad:
        errors.add("notification_recipients", message)
    return "\n".join(addresses)


def _connection(host, port, security, username):
    """What the default connection's password belongs to."""
    return (host or "").lower().rstrip("."), port, security, username or ""


def apply_project_settings(settings, *, default_phone_region, smtp_host, smtp_port, smtp_security,
                           smtp_username, smtp_from, retry_schedule, allowed_target_cidrs,
                           smtp_password="", clear_smtp_password=False, log_retention_days=None,
                           pause_after_failures=None, pause_after_seconds=None,
                           notification_recipients=None):
    """Validate the retry schedule, the allowed target networks, the SMTP host and the
    notification recipients (Invalid names the fields), then set every field; nothing is set
    unless all are valid. The stored SMTP password belongs to the connection: it changes when a
    new one is typed, and is dropped when it is cleared or the host, port, security or user
    change. The retention, the pausing thresholds and the recipients change only when given."""
    errors = Collector()
    if notification_recipients is not None:
        notification_recipients = _recipients(errors, notification_recipients)
    retry_schedule = _retry_schedule(errors, retry_schedule)
    allowed_target_cidrs = _networks(errors, allowed_target_cidrs)
    _smtp_host(errors, smtp_host, smtp_port, allowed_target_cidrs)
    errors.raise_if_any()
    moved = _connection(smtp_host, smtp_port, smtp_security, smtp_username) != _connection(
        settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_username)
    settings.retry_schedule, settings.allowed_target_cidrs = retry_schedule, allowed_target_cidrs
    settings.default_phone_region = default_phone_region
    settings.smtp_host, settings.smtp_port = smtp_host, smtp_port
    settings.smtp_security, settings.smtp_username = smtp_security, smtp_username
    settings.smtp_from = smtp_from
    for name, value in (("log_retention_days", log_retention_days),
                        ("pause_after_failures", pause_after_failures),
                        ("pause_after_seconds", pause_after_seconds),
                        ("notification_recipients", notification_recipients)):
        if value is not None:
            setattr(settings, name, value)
    if smtp_password:
        settings.smtp_password_encrypted = secrets.encrypt(smtp_password)
    elif clear_smtp_password or moved:
        settings.smtp_password_encrypted = ""
    return settings
