"""Deliveries: one per (rule, event) that matched, and the record of each attempt."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, enum_column, partial, utcnow
from .enums import ActionType, AttemptState, Channel, DeliveryStatus, Level, Trigger


class Delivery(db.Model):
    # On PostgreSQL its pages, and the attempts', keep room for the updates of a batch's claim
    # (migrations 0011 and 0012).
    __tablename__ = "deliveries"
    __table_args__ = (
        # A second dispatch of the same event creates nothing.
        sa.UniqueConstraint("rule_id", "event_id"),
        # The next due deliveries of a status, in the order workers take them.
        sa.Index("ix_deliveries_due", "status", "next_attempt_at", "id"),
        sa.Index("ix_deliveries_rule_id_id", "rule_id", "id"),
        # The Tracking Log's filters, each walking the newest rows first.
        sa.Index("ix_deliveries_status_id", "status", "id"),
        sa.Index("ix_deliveries_scope_id", "level", "scope_id", "id"),
        sa.Index("ix_deliveries_list_id_id", "list_id", "id"),
        # Only the deliveries that have one: the filters never ask for the others.
        sa.Index("ix_deliveries_mailer_id_id", "mailer_id", "id",
                 **partial("mailer_id IS NOT NULL")),
        sa.Index("ix_deliveries_campaign_id_id", "campaign_id", "id",
                 **partial("campaign_id IS NOT NULL")),
        sa.Index("ix_deliveries_host_id", "host", "id"),
        sa.Index("ix_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"), index=True)
    # NULL once the rule is deleted; the delivery and its attempts stay in the log.
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tracking_rules.id", ondelete="SET NULL"))
    action: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    # Copied from the rule and the event when dispatched, so that the log filters on one table.
    level: Mapped[Level] = mapped_column(enum_column(Level))
    scope_id: Mapped[int | None] = mapped_column()
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    # NULL for the deliveries of meta events that are about no contact.
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel))
    list_id: Mapped[int | None] = mapped_column()
    mailer_id: Mapped[int | None] = mapped_column()
    campaign_id: Mapped[int | None] = mapped_column()
    contact_md5: Mapped[str | None] = mapped_column(sa.String(32))
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at = mapped_column(UTCDateTime, nullable=True)
    last_response_status: Mapped[int | None] = mapped_column()
    # Why it was skipped, stopped, held or is waiting, in a sentence.
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    # When a job for it was last handed to Redis, and until when a worker holds it.
    enqueued_at = mapped_column(UTCDateTime, nullable=True)
    lease_until = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event = relationship("Event")
    rule = relationship("TrackingRule")
    attempt_rows = relationship("Attempt", back_populates="delivery", order_by="Attempt.number",
                                cascade="all, delete-orphan")

    @classmethod
    def unleased(cls, now):
        """The SQL condition that no live worker holds a delivery: never leased, or its lease
        ran out (its worker died) or was ended (outcome recorded, released)."""
        lease_until = cls.__table__.c.lease_until
        return sa.or_(lease_until.is_(None), lease_until < now)


class Attempt(db.Model):
    """One try of a delivery: what was sent (secrets masked) and what came back."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column()
    # Written as started before it is sent, completed with its outcome after; a started one that
    # a worker claims again is interrupted (its worker stopped: the receiver may have had it).
    state: Mapped[AttemptState] = mapped_column(enum_column(AttemptState),
                                                default=AttemptState.COMPLETED,
                                                server_default=AttemptState.COMPLETED.value)
    started_at = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[bool] = mapped_column(default=False)
    request: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    response_status: Mapped[int | None] = mapped_column()
    response_headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The first 4 KB of the response body, or the SMTP server's reply.
    response_body: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")

    delivery = relationship("Delivery", back_populates="attempt_rows")
