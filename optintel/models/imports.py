"""File uploads into a list (imports), the file's chunks as every worker reads them, and the
record of each download of a list."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import UTCDateTime, encrypted_bytes_column, enum_column, utcnow
from .enums import DownloadFormat, ImportMode, ImportStatus


class ContactImport(db.Model):
    """One uploaded file of values to add to or delete from a Single list. The chunks before
    next_chunk are done: their contacts, events and counts were committed with the cursor."""

    __tablename__ = "contact_imports"
    __table_args__ = (sa.Index("ix_contact_imports_list_id_id", "list_id", "id"),
                      sa.Index("ix_contact_imports_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"))
    mode: Mapped[ImportMode] = mapped_column(enum_column(ImportMode), default=ImportMode.ADD)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus),
                                                 default=ImportStatus.QUEUED)
    file_name: Mapped[str] = mapped_column(sa.String(255), default="")
    # What reading the file found: its encoding, "txt" or "csv", the column taken (CSV).
    encoding: Mapped[str] = mapped_column(sa.String(40), default="")
    file_format: Mapped[str] = mapped_column(sa.String(8), default="txt")
    column: Mapped[str] = mapped_column(sa.String(200), default="")
    mailer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mailers.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime, nullable=True)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    # The job's hold on the import (renewed by every chunk), and when a job was last handed
    # out: a worker killed mid-file lets its lease lapse, and the reconciler hands it out again.
    leased_until = mapped_column(UTCDateTime, nullable=True)
    handed_off_at = mapped_column(UTCDateTime, nullable=True)
    chunks: Mapped[int] = mapped_column(default=0)
    next_chunk: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    existing: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")

    created_by = relationship("User")

    @property
    def percent(self):
        return 100 if not self.total else min(100, self.processed * 100 // self.total)


class ImportChunk(db.Model):
    """A run of the file's values, one a line, compressed and encrypted (an MD5-only list's file
    holds plain values too); emptied when done. invalid_lines keeps its invalid-lines report."""

    __tablename__ = "import_chunks"

    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    # The file's line number of the chunk's first line; line i of the chunk is first_line + i.
    first_line: Mapped[int] = mapped_column()
    payload: Mapped[bytes | None] = encrypted_bytes_column()
    invalid_lines: Mapped[bytes | None] = encrypted_bytes_column()


class ListDownload(db.Model):
    """Who downloaded which list in which format, and when."""

    __tablename__ = "list_downloads"
    __table_args__ = (sa.Index("ix_list_downloads_list_id_id", "list_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("opt_out_lists.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as it was, so the record still says who after the user is deleted.
    user_email: Mapped[str] = mapped_column(sa.String(320), default="")
    format: Mapped[DownloadFormat] = mapped_column(enum_column(DownloadFormat))
    created_at = mapped_column(UTCDateTime, default=utcnow)
