"""The record of every contact added to or deleted from an opt-out list, and of the product's
meta events (a rule paused or resumed, a delivery failed for good), which Project rules act on
as they act on contacts."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, enum_column, partial, utcnow
from .enums import Channel, ContactSource, Trigger


class Event(db.Model):
    """Written in the transaction that changed the contact (or the rule, or the delivery);
    dispatched_at is set by the worker. A meta event has no list, contact or source: it names
    its subject rule (and delivery) instead."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_list_id_id", "list_id", "id"),
        sa.Index("ix_events_undispatched", "id", **partial("dispatched_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel))
    list_id: Mapped[int | None] = mapped_column(sa.ForeignKey("opt_out_lists.id"))
    # NULL when the list keeps MD5 only: the plain value is never stored for those.
    contact: Mapped[str | None] = mapped_column(sa.String(320))
    contact_md5: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    source: Mapped[ContactSource | None] = mapped_column(enum_column(ContactSource))
    mailer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mailers.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"))
    occurred_at = mapped_column(UTCDateTime, default=utcnow)
    caused_by_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id"))
    # How many actions led here: 0 for a change made by a person, the API or an upload.
    depth: Mapped[int] = mapped_column(default=0)
    dispatched_at = mapped_column(UTCDateTime, nullable=True)
    # Meta events: the rule paused or resumed, or whose delivery failed (kept once it is
    # deleted), that delivery, and the values of their placeholders (meta_events.py).
    subject_rule_id: Mapped[int | None] = mapped_column()
    subject_delivery_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict | None] = mapped_column(sa.JSON)

    opt_out_list = relationship("OptOutList")
    mailer = relationship("Mailer")
    campaign = relationship("Campaign")


class EventCount(db.Model):
    """Contact events by UTC day, list, campaign (0: none) and trigger, kept in step with the
    events in the transactions that record them, so that the home page's figures never scan the
    events."""

    __tablename__ = "event_counts"
    __table_args__ = (sa.UniqueConstraint("day", "list_id", "campaign_id", "trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day = mapped_column(UTCDateTime, nullable=False)  # its first moment, 00:00 UTC
    list_id: Mapped[int] = mapped_column()
    campaign_id: Mapped[int] = mapped_column(default=0)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    count: Mapped[int] = mapped_column(default=0)
