"""Tracking rules: when <trigger> happens at <level/scope>, filtered by trigger settings, do <action>."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, encrypted_column, enum_column, utcnow
from .enums import ActionType, Level, RuleStatus, Trigger


class TrackingRule(db.Model):
    __tablename__ = "tracking_rules"
    __table_args__ = (sa.Index("ix_tracking_rules_level_scope", "level", "scope_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[Level] = mapped_column(enum_column(Level))
    # The campaign or list id; NULL for Project rules.
    scope_id: Mapped[int | None] = mapped_column()
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    action: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    # {"contact_list_ids": [...], "mailer_ids": [...]}: filters; empty matches everything.
    trigger_settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The action's settings without its secrets.
    action_settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The secrets of the action settings, as one Fernet token of their JSON.
    secret_settings: Mapped[str] = encrypted_column()
    # Where the action goes (the URL's or SMTP server's host), for the log's Host filter.
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[RuleStatus] = mapped_column(enum_column(RuleStatus), default=RuleStatus.ACTIVE)
    # Endpoint health (deliveries/endpoint_health.py): failed attempts in a row (a success
    # starts again) and since when; what the target last said when it failed; why and when the
    # rule was paused.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failing_since = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    paused_at = mapped_column(UTCDateTime, nullable=True)
    paused_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    author = relationship("User", foreign_keys=[author_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    @property
    def is_active(self):
        return self.status == RuleStatus.ACTIVE

    @property
    def is_paused(self):
        return self.status == RuleStatus.PAUSED

    def __repr__(self):
        return f"<TrackingRule {self.id} {self.level}:{self.scope_id} {self.trigger} {self.action}>"
