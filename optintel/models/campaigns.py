"""Email and SMS campaigns, scrubbed against opt-out lists of their channel."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, encrypted_column, enum_column, utcnow
from .enums import Channel, Status

campaign_mailers = sa.Table(
    "campaign_mailers",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mailer_id", sa.ForeignKey("mailers.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

campaign_lists = sa.Table(
    "campaign_lists",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("list_id", sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Campaign(db.Model):
    """An email campaign (channel email) or an SMS campaign (channel phone)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.ACTIVE)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # SMS campaigns: the Twilio auth token that signs the STOP webhook's requests.
    sms_auth_token_encrypted: Mapped[str] = encrypted_column()

    manager = relationship("User")
    mailers = relationship("Mailer", secondary=campaign_mailers, order_by="Mailer.nickname")
    opt_out_lists = relationship("OptOutList", secondary=campaign_lists, backref="campaigns",
                                 order_by="OptOutList.name")

    @property
    def is_active(self):
        return self.status == Status.ACTIVE

    @property
    def receiving_lists(self):
        """The lists that the campaign's own opt-outs (its unsubscribe link, STOP replies) go
        into: its active Single lists. A Grouped list keeps its contacts in its members, and
        which member should take them is not the campaign's to guess."""
        return [lst for lst in self.opt_out_lists
                if not lst.is_grouped and lst.status == Status.ACTIVE]

    def __repr__(self):
        return f"<Campaign {self.id} {self.channel} {self.name}>"
