"""Downloading a list: plain values (lists that keep them), MD5s, or both as CSV with the date
each contact arrived; a Grouped list gives the union of its lists, each contact once. Streamed
page by page (keyset), never held whole; every download is recorded first."""
import csv
import io

import sqlalchemy as sa

from .extensions import db
from .models import Channel, Contact, DownloadFormat, ListDownload
from .sql import iso_utc
from .validation import Invalid

PAGE = 10_000
contacts = Contact.__table__


def _source_lists(opt_out_list):
    """The lists whose contacts the download holds."""
    return list(opt_out_list.members) if opt_out_list.is_grouped else [opt_out_list]


def formats(opt_out_list):
    """The formats this list downloads in: plain values only where every list keeps them."""
    keeps_plain = all(source.keeps_plain for source in _source_lists(opt_out_list))
    return [f for f in DownloadFormat if keeps_plain or f != DownloadFormat.PLAIN]


def check_format(opt_out_list, fmt):
    """The DownloadFormat of `fmt`; Invalid (field format) when the list has no such one."""
    try:
        fmt = DownloadFormat(fmt)
    except ValueError:
        raise Invalid.on("format", "Choose plain, md5 or csv.") from None
    if fmt not in formats(opt_out_list):
        raise Invalid.on("format", "This list keeps MD5s only: download md5 or csv.")
    return fmt


def record(opt_out_list, user, fmt):
    """Record who downloads the list in which format, now (committed before a byte is sent)."""
    db.session.add(ListDownload(list_id=opt_out_list.id, user_id=user.id, user_email=user.email,
                                format=fmt))
    db.session.commit()


def recent(opt_out_list, limit=20):
    """The list's latest downloads, newest first."""
    return db.session.scalars(sa.select(ListDownload).where(ListDownload.list_id == opt_out_list.id)
                              .order_by(ListDownload.id.desc()).limit(limit)).all()


def file_name(opt_out_list, fmt):
    extension = "csv" if fmt == DownloadFormat.CSV else "txt"
    return f"list-{opt_out_list.id}-{fmt.value}.{extension}"


def stream(opt_out_list, fmt):
    """The download's text, a page of contacts at a time."""
    keeps_plain = fmt == DownloadFormat.PLAIN or (
        fmt == DownloadFormat.CSV and DownloadFormat.PLAIN in formats(opt_out_list))
    if fmt == DownloadFormat.CSV:
        value_name = "email" if opt_out_list.channel == Channel.EMAIL else "phone"
        yield ",".join(([value_name] if keeps_plain else []) + ["md5", "added_at"]) + "\r\n"
    for page in _pages([source.id for source in _source_lists(opt_out_list)]):
        if fmt == DownloadFormat.PLAIN:
            yield "".join(f"{value}\n" for value, _, _ in page)
        elif fmt == DownloadFormat.MD5:
            yield "".join(f"{md5}\n" for _, md5, _ in page)
        else:
            yield _csv_page(page, keeps_plain)


def _csv_page(page, keeps_plain):
    out = io.StringIO()
    csv.writer(out).writerows((value, md5, arrived) if keeps_plain else (md5, arrived)
                              for value, md5, arrived in page)
    return out.getvalue()


def _pages(list_ids):
    """Pages of (value, md5, arrived at as ISO 8601 text). One list: by id; several: by MD5,
    grouped, so that a contact in two of them comes once. Each page is its own short read."""
    if not list_ids:
        return
    if len(list_ids) == 1:
        query = (sa.select(contacts.c.id, contacts.c.value, contacts.c.md5,
                           iso_utc(contacts.c.created_at))
                 .where(contacts.c.list_id == list_ids[0]).order_by(contacts.c.id).limit(PAGE))
        key = contacts.c.id
    else:
        query = (sa.select(contacts.c.md5, sa.func.max(contacts.c.value), contacts.c.md5,
                           iso_utc(sa.func.min(contacts.c.created_at)))
                 .where(contacts.c.list_id.in_(list_ids)).group_by(contacts.c.md5)
                 .order_by(contacts.c.md5).limit(PAGE))
        key = contacts.c.md5
    last = None
    while True:
        page = db.session.execute(query if last is None else query.where(key > last)).all()
        db.session.rollback()
        if not page:
            return
        last = page[-1][0]
        yield [row[1:] for row in page]
        if len(page) < PAGE:
            return
