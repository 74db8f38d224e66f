"""Working through an import, chunk by chunk, on any worker. Each chunk's contacts, their events,
the list's count, the import's counts and its cursor are one transaction (contact_changes with
a before_commit), so a worker killed mid-file leaves the cursor at the last committed chunk:
the next worker resumes there, adding no line twice and firing no event twice.

A job holds the import by a lease that each chunk renews; it works for a slice of time, then
hands the rest to a new job, so that a lone worker also dispatches events meanwhile. An import
whose lease lapsed (its worker died) or whose job Redis lost is handed out again by
hand_off_lost, from the reconciler."""
import logging
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from ..contact_changes import Origin, add_contacts, remove_contacts
from ..extensions import db
from ..models import (Contact, ContactImport, ContactSource, Event, ImportChunk, ImportMode,
                      ImportStatus, OptOutList)
from ..models.columns import utcnow
from ..queue import IMPORTS_QUEUE, queue
from ..sql import refresh_statistics
from .packing import pack, unpack

log = logging.getLogger(__name__)
IMPORT_JOB = "optintel.jobs.run_import"
SLICE_SECONDS = 10
# A chunk that meets a locked or lost database is tried again this often before the import
# is marked failed.
CHUNK_TRIES = 3
imports = ContactImport.__table__
IN_FLIGHT = ImportStatus.in_flight_statuses()


class Superseded(Exception):
    """Another job moved the cursor, or the import was cancelled, while this chunk ran."""


def _lease_end():
    return utcnow() + timedelta(seconds=current_app.config["OPTINTEL_LEASE_SECONDS"])


def hand_off(import_id):
    """Enqueue a job for the import, after its commit; False when Redis is unreachable (the
    reconciler hands it out later)."""
    db.session.execute(sa.update(imports).where(imports.c.id == import_id)
                       .values(handed_off_at=utcnow()))
    db.session.commit()
    try:
        queue(IMPORTS_QUEUE).enqueue(IMPORT_JOB, import_id, job_timeout=SLICE_SECONDS * 60,
                                     result_ttl=0)
    except RedisError as exc:
        log.warning("Redis unavailable, import %s waits for the reconciler: %s", import_id, exc)
        return False
    return True


def hand_off_lost(older_than_seconds):
    """Hand out again the imports in flight that no job holds (lease lapsed or released) and
    that were last handed out that long ago; returns how many."""
    now = utcnow()
    ids = db.session.scalars(sa.select(imports.c.id).where(
        imports.c.status.in_(IN_FLIGHT),
        sa.or_(imports.c.leased_until.is_(None), imports.c.leased_until < now),
        sa.or_(imports.c.handed_off_at.is_(None),
               imports.c.handed_off_at < now - timedelta(seconds=older_than_seconds)))
        .order_by(imports.c.id)).all()
    db.session.rollback()
    for import_id in ids:
        hand_off(import_id)
    return len(ids)


def _claim(import_id):
    """Take the lease of an import in flight that no job holds; False when another does."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(imports)
        .where(imports.c.id == import_id, imports.c.status.in_(IN_FLIGHT),
               sa.or_(imports.c.leased_until.is_(None), imports.c.leased_until < now))
        .values(status=ImportStatus.RUNNING, leased_until=_lease_end(),
                started_at=sa.func.coalesce(imports.c.started_at, now))).rowcount
    db.session.commit()
    return claimed == 1


def run(import_id, slice_seconds=SLICE_SECONDS):
    """Work through the import's chunks from its cursor until it ends, or hand the rest to a new
    job after `slice_seconds` (None: no slice); 'held' when another job holds it."""
    if not _claim(import_id):
        return "held"
    deadline = None if slice_seconds is None else time.monotonic() + slice_seconds
    while True:
        contact_import = db.session.get(ContactImport, import_id, populate_existing=True)
        if contact_import is None or contact_import.status != ImportStatus.RUNNING:
            db.session.rollback()
            return contact_import.status.value if contact_import else "gone"
        if contact_import.next_chunk >= contact_import.chunks:
            _end(contact_import)
            return ImportStatus.DONE.value
        last = contact_import.next_chunk + 1 == contact_import.chunks
        if not _chunk_with_retries(contact_import):
            return "stopped"
        if last:
            refresh_statistics(Contact.__table__, Event.__table__)
            return ImportStatus.DONE.value
        if deadline is not None and time.monotonic() > deadline:
            _release(import_id)
            return "continued"


def _release(import_id):
    db.session.execute(sa.update(imports).where(imports.c.id == import_id,
                                                imports.c.status == ImportStatus.RUNNING)
                       .values(leased_until=None))
    db.session.commit()
    hand_off(import_id)


def _end(contact_import):
    """Done: no chunk left (an import whose chunks all ran ends in the last one's transaction;
    this covers a file cancelled or resumed at its very end)."""
    db.session.execute(sa.update(imports).where(imports.c.id == contact_import.id,
                                                imports.c.status == ImportStatus.RUNNING)
                       .values(status=ImportStatus.DONE, finished_at=utcnow(),
                               leased_until=None))
    db.session.commit()


def _chunk_with_retries(contact_import):
    """Run the chunk at the cursor; True to go on. An error marks the import failed, with the
    line it stopped at."""
    import_id, seq = contact_import.id, contact_import.next_chunk
    for attempt in range(1, CHUNK_TRIES + 1):
        try:
            _run_chunk(contact_import)
            return True
        except Superseded:
            db.session.rollback()
            return False
        except sa.exc.OperationalError:
            db.session.rollback()
            if attempt == CHUNK_TRIES:
                log.exception("Import %s stopped at chunk %s", import_id, seq)
            else:
                time.sleep(attempt)
                contact_import = db.session.get(ContactImport, import_id, populate_existing=True)
        except Exception:  # noqa: BLE001 — recorded on the import, which the user sees
            db.session.rollback()
            log.exception("Import %s stopped at chunk %s", import_id, seq)
            break
    _fail(import_id, seq)
    return False


def _fail(import_id, seq):
    first_line = db.session.scalar(sa.select(ImportChunk.first_line).where(
        ImportChunk.import_id == import_id, ImportChunk.seq == seq))
    db.session.execute(sa.update(imports).where(imports.c.id == import_id,
                                                imports.c.status == ImportStatus.RUNNING)
                       .values(status=ImportStatus.FAILED, finished_at=utcnow(), leased_until=None,
                               error=f"Stopped at line {first_line}: an internal error; the lines "
                                     f"before it were imported."))
    db.session.commit()


def _run_chunk(contact_import):
    """One chunk, one transaction: the contacts and their events (contact_changes), then in
    before_commit the chunk's report and the import's counts and cursor."""
    seq = contact_import.next_chunk
    chunk = db.session.get(ImportChunk, (contact_import.id, seq))
    if chunk.payload is None:
        raise Superseded  # another job did this chunk since the cursor was read
    numbered = [(chunk.first_line + offset, line) for offset, line in
                enumerate(unpack(chunk.payload)) if line]
    opt_out_list = db.session.get(OptOutList, contact_import.list_id)
    origin = Origin(ContactSource.UPLOAD, contact_import.mailer_id, contact_import.campaign_id)
    adding = contact_import.mode == ImportMode.ADD
    last = seq + 1 == contact_import.chunks

    def before_commit(outcome):
        report = list(_invalid_lines(numbered, outcome.invalid, opt_out_list.keeps_plain))
        db.session.execute(sa.update(ImportChunk.__table__).where(
            ImportChunk.__table__.c.import_id == contact_import.id,
            ImportChunk.__table__.c.seq == seq)
            .values(payload=None, invalid_lines=pack(report) if report else None))
        moved = db.session.execute(
            sa.update(imports)
            .where(imports.c.id == contact_import.id, imports.c.next_chunk == seq,
                   imports.c.status == ImportStatus.RUNNING)
            .values(next_chunk=seq + 1, processed=imports.c.processed + len(numbered),
                    invalid=imports.c.invalid + len(report), leased_until=_lease_end(),
                    **_counted(adding, outcome),
                    **({"status": ImportStatus.DONE, "finished_at": utcnow()} if last else {})))
        if moved.rowcount != 1:
            raise Superseded

    change = add_contacts if adding else remove_contacts
    change(opt_out_list, [value for _, value in numbered], origin, md5s=True,
           before_commit=before_commit, bulk=True)


def _counted(adding, outcome):
    if adding:
        return {"added": imports.c.added + outcome.changed,
                "existing": imports.c.existing + outcome.unchanged}
    return {"deleted": imports.c.deleted + outcome.changed,
            "missing": imports.c.missing + outcome.unchanged}


def _invalid_lines(numbered, invalid, keep_values):
    """'line<TAB>value<TAB>reason' of each invalid line. contact_changes reports invalid values
    in the order they came, and a value is invalid wherever it appears, so walking both in step
    pairs each report with its line."""
    reports = iter(invalid)
    report = next(reports, None)
    for number, value in numbered:
        if report is not None and report["value"] == value:
            shown = " ".join(value.split("\t")) if keep_values else ""
            yield f"{number}\t{shown}\t{report['error']}"
            report = next(reports, None)
