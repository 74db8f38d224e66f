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
from ..models import ActionType, Delivery, DeliveryStatus, ProjectSettings, TrackingRule
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


def message_about(rule, settings):
    """The email telling that the rule is paused, why, and how to resume it."""
    held = db.session.scalar(sa.select(sa.func.count(Delivery.id)).where(
        Delivery.rule_id == rule.id, Delivery.status == DeliveryStatus.HELD))
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
    for rule in db.session.scalars(sa.select(TrackingRule).where(TrackingRule.id.in_(rule_ids))):
        recipients = recipients_of(rule, settings)
        if not settings.smtp_host:
            log.warning("Rule %s paused: no default SMTP connection is set, nobody was emailed",
                        rule.id)
            continue
        if not recipients:
            log.warning("Rule %s paused: it has no author or notification recipient to email",
                        rule.id)
            continue
        try:
            connection = {**actions.get(ActionType.SMTP).prepare({"connection": "default"}),
                          "from": settings.smtp_from}
            send_message(connection, message_about(rule, settings), recipients, project_policy())
        except (RefusedTarget, smtplib.SMTPException, OSError):
            log_failure(log, "Rule %s paused: the email about it could not be sent", rule.id)
        except Exception:  # noqa: BLE001 — e.g. a password no key decrypts; the pause stands
            log_failure(log, "Rule %s paused: the email about it could not be made", rule.id)
        else:
            log.info("Rule %s paused: %d person(s) emailed", rule.id, len(recipients))
