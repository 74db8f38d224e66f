"""Downloading a list: plain values (lists that keep them), MD5s, or both as CSV with the date
each contact arrived; a Grouped list gives the union of its lists, each contact once. Streamed
page by page (keyset), never held whole; every download is recorded first."""
import csv
import io

import sqlalchemy as sa

from .access import lists_in_clear
from .extensions import db
from .models import Channel, Contact, DownloadFormat, ListDownload
from .sql import iso_utc, plain_rows
from .validation import Invalid

PAGE = 10_000
contacts = Contact.__table__


def _source_lists(opt_out_list):
    """The lists whose contacts the download holds."""
    return list(opt_out_list.members) if opt_out_list.is_grouped else [opt_out_list]


def _in_clear(opt_out_list, user):
    """Whether the download may hold plain values: every list in it keeps them and the user sees
    each one's contacts in clear (a group's owner does not see the lists of others in it)."""
    sources = _source_lists(opt_out_list)
    return all(source.keeps_plain for source in sources) and \
        lists_in_clear(user, [source.id for source in sources]) == {s.id for s in sources}


def formats(opt_out_list, user):
    """The formats this list downloads in for the user: plain values only in clear."""
    in_clear = _in_clear(opt_out_list, user)
    return [f for f in DownloadFormat if in_clear or f != DownloadFormat.PLAIN]


def check_format(opt_out_list, fmt, user):
    """The DownloadFormat of `fmt`; Invalid (field format) when the list has no such one."""
    try:
        fmt = DownloadFormat(fmt)
    except ValueError:
        raise Invalid.on("format", "Choose plain, md5 or csv.") from None
    if fmt not in formats(opt_out_list, user):
        raise Invalid.on("format", "This list keeps MD5s only: download md5 or csv."
                         if not all(s.keeps_plain for s in _source_lists(opt_out_list)) else
                         "Plain values only of your own lists: download md5 or csv.")
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


def _file_type(fmt):
    """(media type, extension) of a download: CSV, or text of one value a line."""
    return ("text/csv", "csv") if fmt == DownloadFormat.CSV else ("text/plain", "txt")


def media_type(fmt):
    """The media type of a download in this format."""
    return _file_type(fmt)[0]


def file_name(opt_out_list, fmt):
    """The name a download in this format is saved under."""
    return f"list-{opt_out_list.id}-{fmt.value}.{_file_type(fmt)[1]}"


def stream(opt_out_list, fmt, user):
    """The download's text, a page of contacts at a time (what it holds decided now, before the
    response streams)."""
    keeps_plain = _in_clear(opt_out_list, user)
    list_ids = [source.id for source in _source_lists(opt_out_list)]
    return _text(list_ids, fmt, keeps_plain,
                 "email" if opt_out_list.channel == Channel.EMAIL else "phone")


def _text(list_ids, fmt, keeps_plain, value_name):
    if fmt == DownloadFormat.CSV:
        yield ",".join(([value_name] if keeps_plain else []) + ["md5", "added_at"]) + "\r\n"
        for page in _pages(list_ids, ("value", "md5", "arrived") if keeps_plain
                           else ("md5", "arrived")):
            out = io.StringIO()
            csv.writer(out).writerows(page)
            yield out.getvalue()
        return
    for page in _pages(list_ids, ("value",) if fmt == DownloadFormat.PLAIN else ("md5",)):
        yield "".join(f"{value}\n" for value, in page)


def _pages(list_ids, names):
    """Pages of rows of these columns (value, md5, arrived: ISO 8601 text). One list: by id;
    several: by MD5, grouped, so that a contact in two of them comes once. Each page is its own
    short read."""
    if not list_ids:
        return
    c = contacts.c
    if len(list_ids) == 1:
        columns = {"value": c.value, "md5": c.md5, "arrived": iso_utc(c.created_at)}
        key, where = c.id, c.list_id == list_ids[0]
    else:
        columns = {"value": sa.func.max(c.value), "md5": c.md5,
                   "arrived": iso_utc(sa.func.min(c.created_at))}
        key, where = c.md5, c.list_id.in_(list_ids)
    query = sa.select(key, *(columns[name] for name in names)).where(where).limit(PAGE)
    query = query.group_by(c.md5) if len(list_ids) > 1 else query
    query = query.order_by(key)
    last = None
    while True:
        page = plain_rows(query if last is None else query.where(key > last))
        db.session.rollback()
        if not page:
            return
        last = page[-1][0]
        yield [row[1:] for row in page]
        if len(page) < PAGE:
            return
