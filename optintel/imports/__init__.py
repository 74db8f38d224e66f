"""File uploads into a Single list. `start` reads the file into chunks kept in the database, in
one transaction with its import; a job works through them on any worker (running.py), one
chunk a transaction with its contacts, events and cursor, and the report keeps its invalid
lines."""
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..contact_changes import check_writable, origin_for
from ..extensions import db
from ..models import ContactImport, ContactSource, ImportChunk, ImportMode, ImportStatus
from ..models.columns import utcnow
from ..validation import Invalid
from . import running
from .packing import pack, unpack
from .reading import read_values

hand_off_lost = running.hand_off_lost


def start(opt_out_list, stream, *, file_name="", mode=None, column=None, mailer_id=None,
          campaign_id=None, user=None, hand_off=True):
    """A queued import of the file into the list (mode add unless given), in chunks of
    OPTINTEL_MAX_BATCH values, committed with its chunks, then handed to the workers. Invalid
    (fields mode, mailer_id, campaign_id, file, column) when it cannot be: then nothing is
    kept. ListNotWritable for a Grouped list."""
    check_writable(opt_out_list)
    try:
        mode = ImportMode(mode or ImportMode.ADD)
    except ValueError:
        raise Invalid.on("mode", "Choose add or delete.") from None
    origin = origin_for(opt_out_list, ContactSource.UPLOAD, mailer_id, campaign_id, user)
    contact_import = ContactImport(
        list_id=opt_out_list.id, mode=mode, file_name=(file_name or "")[-255:],
        mailer_id=origin.mailer_id, campaign_id=origin.campaign_id,
        created_by_id=user.id if user is not None else None)
    try:
        shape, chunks = read_values(stream, opt_out_list.channel, file_name, column,
                                    current_app.config["OPTINTEL_MAX_BATCH"])
        db.session.add(contact_import)
        db.session.flush()
        for seq, (first_line, lines) in enumerate(chunks):
            db.session.execute(sa.insert(ImportChunk.__table__), [{
                "import_id": contact_import.id, "seq": seq, "first_line": first_line,
                "payload": pack(lines)}])
            contact_import.chunks = seq + 1
    except Exception:
        db.session.rollback()
        raise
    contact_import.total, contact_import.encoding = shape.total, shape.encoding
    contact_import.file_format, contact_import.column = shape.file_format, shape.column_label
    db.session.commit()
    if hand_off:
        running.hand_off(contact_import.id)
    return contact_import


def of_list(opt_out_list, import_id):
    """The import of that id if it is one of the list's (with who uploaded it); None otherwise."""
    contact_import = db.session.get(ContactImport, import_id,
                                    options=[selectinload(ContactImport.created_by)])
    if contact_import is None or contact_import.list_id != opt_out_list.id:
        return None
    return contact_import


def latest(opt_out_list, limit=3):
    """The list's latest imports, newest first, with who uploaded them."""
    return db.session.scalars(sa.select(ContactImport)
                              .where(ContactImport.list_id == opt_out_list.id)
                              .options(selectinload(ContactImport.created_by))
                              .order_by(ContactImport.id.desc()).limit(limit)).all()


def cancel(contact_import):
    """Stop an import at its next chunk; what the chunks before it did stays. False when it had
    already ended."""
    cancelled = db.session.execute(
        sa.update(ContactImport.__table__)
        .where(ContactImport.__table__.c.id == contact_import.id,
               ContactImport.__table__.c.status.in_(ImportStatus.in_flight_statuses()))
        .values(status=ImportStatus.CANCELLED, finished_at=utcnow(), leased_until=None)).rowcount
    db.session.commit()
    db.session.refresh(contact_import)
    return bool(cancelled)


def invalid_lines(contact_import):
    """(line number, value, reason) of each invalid line so far, in the file's order; the value
    is empty for an MD5-only list, whose report keeps none."""
    payloads = db.session.scalars(
        sa.select(ImportChunk.invalid_lines)
        .where(ImportChunk.import_id == contact_import.id, ImportChunk.invalid_lines.is_not(None))
        .order_by(ImportChunk.seq))
    for payload in payloads:
        for line in unpack(payload):
            number, value, reason = line.split("\t", 2)
            yield int(number), value, reason
