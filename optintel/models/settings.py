"""Project Settings: one row of project-wide defaults."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .columns import encrypted_column


DEFAULT_RETRY_SCHEDULE = "0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400"


class ProjectSettings(db.Model):
    __tablename__ = "project_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    default_phone_region: Mapped[str] = mapped_column(sa.String(2), default="US")
    # The default SMTP connection used by SMTP email actions.
    smtp_host: Mapped[str] = mapped_column(sa.String(255), default="")
    smtp_port: Mapped[int] = mapped_column(default=587)
    smtp_security: Mapped[str] = mapped_column(sa.String(16), default="starttls")
    smtp_username: Mapped[str] = mapped_column(sa.String(255), default="")
    smtp_password_encrypted: Mapped[str] = encrypted_column()
    smtp_from: Mapped[str] = mapped_column(sa.String(254), default="")
    # Seconds before each attempt of a delivery (Standard Webhooks' schedule by default).
    retry_schedule: Mapped[str] = mapped_column(sa.String(500), default=DEFAULT_RETRY_SCHEDULE)
    # Ping URL and Slack may reach these networks although they are not public (one CIDR a line).
    allowed_target_cidrs: Mapped[str] = mapped_column(sa.Text, default="")
    # Changed in the transaction of every change that can change which rules match which
    # events, so that workers rebuild their matching index only then.
    rules_version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Tracking Log rows older than this many days are pruned.
    log_retention_days: Mapped[int] = mapped_column(default=90)
    # A rule whose every attempt failed for this long, and at least this many times, is paused
    # (either 0: never).
    pause_after_failures: Mapped[int] = mapped_column(default=20)
    pause_after_seconds: Mapped[int] = mapped_column(default=86400)
    # Who is emailed when a rule is paused, besides its author: one address a line.
    notification_recipients: Mapped[str] = mapped_column(sa.Text, default="")

    @property
    def retry_delays(self):
        """The schedule as a list of seconds."""
        return [int(s) for s in self.retry_schedule.replace(",", " ").split()]

    @property
    def pausing(self):
        """Whether failing rules are paused at all."""
        return bool(self.pause_after_failures and self.pause_after_seconds)

    @property
    def notification_addresses(self):
        """The notification recipients as a list."""
        return [line for line in (self.notification_recipients or "").split() if line]

    @classmethod
    def get(cls):
        """The settings row, created with defaults the first time."""
        row = db.session.get(cls, 1)
        if row is None:
            row = cls(id=1)
            db.session.add(row)
            db.session.flush()
        return row
