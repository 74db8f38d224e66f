"""Third-party senders."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .columns import UTCDateTime, enum_column, utcnow
from .enums import Status


class Mailer(db.Model):
    __tablename__ = "mailers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    nickname: Mapped[str] = mapped_column(sa.String(100), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    web_address: Mapped[str] = mapped_column(sa.String(500), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.ACTIVE)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self):
        return f"<Mailer {self.nickname}>"
