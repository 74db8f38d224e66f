"""What the Tracking Log keeps besides deliveries: test runs, access confirmations and the
hourly counts its chart is drawn from."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, enum_column, utcnow
from .enums import ActionType, DeliveryStatus, Level, Trigger


class TestRun(db.Model):
    """One run of a rule's action with values typed in the Test Run pop-up; never an event."""

    __test__ = False  # not a pytest test class

    __tablename__ = "test_runs"
    __table_args__ = (sa.Index("ix_test_runs_scope_id", "level", "scope_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tracking_rules.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    level: Mapped[Level] = mapped_column(enum_column(Level))
    scope_id: Mapped[int | None] = mapped_column()
    action: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    values: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus),
                                                   default=DeliveryStatus.PENDING)
    duration_ms: Mapped[int] = mapped_column(default=0)
    request: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    response_status: Mapped[int | None] = mapped_column()
    response_headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    response_body: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Set by the worker that takes it, so that a second job for the same run does nothing.
    started_at = mapped_column(UTCDateTime, nullable=True)
    completed_at = mapped_column(UTCDateTime, nullable=True)

    rule = relationship("TrackingRule")
    user = relationship("User")


class LogAccess(db.Model):
    """Who confirmed 'I confirm to get access' to a delivery's or test run's full log, and when."""

    __tablename__ = "log_accesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    delivery_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    test_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("test_runs.id", ondelete="SET NULL"))
    accessed_at = mapped_column(UTCDateTime, default=utcnow, index=True)

    user = relationship("User")

    @classmethod
    def record(cls, user, delivery_id=None, test_run_id=None):
        """Record that the user opened the full log of a delivery or test run, and commit."""
        db.session.add(cls(user=user, delivery_id=delivery_id, test_run_id=test_run_id))
        db.session.commit()


class DeliveryCount(db.Model):
    """Deliveries by hour of creation, rule (and what the rule was) and status, kept in step
    with the deliveries in the same transactions, so the chart never scans the log."""

    __tablename__ = "delivery_counts"
    __table_args__ = (sa.UniqueConstraint("hour", "rule_id", "status"),
                      # Covers the chart's sums over a range of hours without reading the rows.
                      sa.Index("ix_delivery_counts_chart", "hour", "status", "count"))

    id: Mapped[int] = mapped_column(primary_key=True)
    hour = mapped_column(UTCDateTime, nullable=False)
    rule_id: Mapped[int | None] = mapped_column()
    level: Mapped[Level] = mapped_column(enum_column(Level))
    scope_id: Mapped[int | None] = mapped_column()
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    action: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus))
    count: Mapped[int] = mapped_column(default=0)
