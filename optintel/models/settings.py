"""Project Settings: one row of project-wide defaults."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ProjectSettings(db.Model):
    __tablename__ = "project_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    default_phone_region: Mapped[str] = mapped_column(sa.String(2), default="US")
    # The default SMTP connection used by SMTP email actions.
    smtp_host: Mapped[str] = mapped_column(sa.String(255), default="")
    smtp_port: Mapped[int] = mapped_column(default=587)
    smtp_security: Mapped[str] = mapped_column(sa.String(16), default="starttls")
    smtp_username: Mapped[str] = mapped_column(sa.String(255), default="")
    smtp_password_encrypted: Mapped[str] = mapped_column(sa.Text, default="")
    smtp_from: Mapped[str] = mapped_column(sa.String(254), default="")

    @classmethod
    def get(cls):
        """The settings row, created with defaults the first time."""
        row = db.session.get(cls, 1)
        if row is None:
            row = cls(id=1)
            db.session.add(row)
            db.session.flush()
        return row
