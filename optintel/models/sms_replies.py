"""The STOP and START replies that SMS campaigns received, by Twilio's MessageSid: a message
Twilio sends again changes nothing the second time."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .columns import UTCDateTime, utcnow


class SmsReply(db.Model):
    """One opt-out or opt-in reply that was acted on; the number itself is not kept here."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    received_at = mapped_column(UTCDateTime, default=utcnow)
