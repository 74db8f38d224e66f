"""Opt-out lists and the contacts they hold."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, enum_column, utcnow
from .enums import Channel, ContactSource, ListKind, Status, Storage

list_members = sa.Table(
    "list_members",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class OptOutList(db.Model):
    __tablename__ = "opt_out_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.ACTIVE)
    kind: Mapped[ListKind] = mapped_column(enum_column(ListKind), default=ListKind.SINGLE)
    storage: Mapped[Storage] = mapped_column(enum_column(Storage), default=Storage.PLAIN_MD5)
    # One domain a line; email lists only.
    suppressed_domains: Mapped[str] = mapped_column(sa.Text, default="")
    # Kept in step with the contacts table inside the same transaction, so pages need no COUNT.
    contact_count: Mapped[int] = mapped_column(default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("User")
    members = relationship(
        "OptOutList", secondary=list_members,
        primaryjoin=lambda: OptOutList.id == list_members.c.group_id,
        secondaryjoin=lambda: OptOutList.id == list_members.c.member_id,
        backref="groups", order_by=lambda: OptOutList.name,
    )

    @property
    def is_grouped(self):
        return self.kind == ListKind.GROUPED

    @property
    def keeps_plain(self):
        return self.storage == Storage.PLAIN_MD5

    @property
    def domains(self):
        return [d for d in self.suppressed_domains.split() if d]

    def __repr__(self):
        return f"<OptOutList {self.id} {self.channel} {self.name}>"


class Contact(db.Model):
    """One email address or phone number in a Single list; value is NULL for MD5-only lists."""

    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("list_id", "md5"),
                      sa.Index("ix_contacts_list_id_id", "list_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"))
    value: Mapped[str | None] = mapped_column(sa.String(320))
    md5: Mapped[str] = mapped_column(sa.String(32), index=True)
    source: Mapped[ContactSource] = mapped_column(enum_column(ContactSource))
    mailer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mailers.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    opt_out_list = relationship("OptOutList")
    mailer = relationship("Mailer")
    campaign = relationship("Campaign")
