"""Telling people that a rule was paused: an email to its author and to the notification
recipients of Project Settings, through the project's default SMTP connection (reached as SMTP
email actions reach it, under the same target policy). Without a default connection nobody is
emailed, and the log says so; the log names the rule, never the addresses."""
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import sqlalchemy as sa

from .. import actions
from ..actions.smtp import send_message
from ..actions.target_policy import RefusedTarget, project_policy
from ..extensions import db
from ..meta_events import scope_label
from ..models import ActionType, ProjectSettings, TrackingRule
from ..rules.presenting import held_counts
from ..server_log import log_failure

log = logging.getLogger(__name__)


def recipients_of(rule, settings):
    """The rule's author (while their account is active) and the notification recipients,
    each once."""
    addresses = [rule.author.email] if rule.author is not None and rule.author.active else []
    for address in settings.notification_addresses:
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return addresses


def message_about(rule, settings, held):
    """The email telling that the rule is paused, why, how many deliveries it holds so far
    (`held`), and how to resume it."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["Subject"] = f"[Opt-Intel] Rule #{rule.id} paused"
    message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid()
    message.set_content("\n".join([
        f"Tracking rule #{rule.id} ({actions.get(rule.action).label} on {rule.trigger.label}, "
        f"{scope_label(rule)}) was paused at {rule.paused_at:%Y-%m-%d %H:%M:%S} UTC.",
        "", f"Why: {rule.paused_reason}", f"Last error: {rule.last_error or '—'}", "",
        f"Its deliveries are held, not lost: {held} so far. Enable the rule on its Tracking tab "
        "(or run a Test Run that succeeds) to resume it; the held deliveries are then sent, "
        "oldest first."]))
    return message


def tell(rule_ids):
    """Email about each paused rule; a failure to send is logged, never raised."""
    if not rule_ids:
        return
    settings = ProjectSettings.get()
    rules = db.session.scalars(sa.select(TrackingRule).where(TrackingRule.id.in_(rule_ids))).all()
    if not settings.smtp_host:
        for rule in rules:
            log.warning("Rule %s paused: no default SMTP connection is set, nobody was emailed",
                        rule.id)
        return
    try:
        connection = {**actions.get(ActionType.SMTP).prepare({"connection": "default"}),
                      "from": settings.smtp_from}
    except Exception:  # noqa: BLE001 — e.g. a password no key decrypts; the pauses stand
        log_failure(log, "Rule(s) %s paused: the default SMTP connection could not be read, "
                         "nobody was emailed", ", ".join(str(rule.id) for rule in rules))
        return
    held, policy = held_counts(rules), project_policy()
    for rule in rules:
        recipients = recipients_of(rule, settings)
        if not recipients:
            log.warning("Rule %s paused: it has no author or notification recipient to email",
                        rule.id)
            continue
        try:
            send_message(connection, message_about(rule, settings, held.get(rule.id, 0)),
                         recipients, policy)
        except (RefusedTarget, smtplib.SMTPException, OSError):
            log_failure(log, "Rule %s paused: the email about it could not be sent", rule.id)
        except Exception:  # noqa: BLE001 — the pause stands whatever the email does
            log_failure(log, "Rule %s paused: the email about it could not be made", rule.id)
        else:
            log.info("Rule %s paused: %d person(s) emailed", rule.id, len(recipients))
