"""Imports worked through by real `flask worker` processes: a worker killed mid-file, every
encoding, the rule's deliveries one to one with the added contacts, and an MD5-only list whose
import and download leave no plain value anywhere (database file, tables, events, logs)."""
import hashlib
import io
import json
import logging
import os
import signal
import subprocess
from pathlib import Path

import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import (Contact, ContactImport, Delivery, DeliveryStatus, Event,
                             ImportStatus, Storage)
from tests.conftest import fresh, wait_for

RULE_BODY = '{"md5": "{{contact_md5}}", "contact": "{{contact}}", "event": "{{event_id}}"}'


def md5(value):
    return hashlib.md5(value.encode()).hexdigest()


def upload(api, opt_out_list, data, name="values.txt"):
    response = api.request("POST", f"/email-lists/{opt_out_list.id}/imports",
                           data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    return response.json["id"]


def the_import(import_id):
    db.session.rollback()
    return db.session.get(ContactImport, import_id, populate_existing=True)


def count(query):
    db.session.rollback()
    return db.session.scalar(query)


def test_an_import_whose_worker_is_killed_mid_file_completes_after_a_new_worker_starts(
        app, api, make_list, make_rule, make_workers, http_sink):
    lines = 12_000
    app.config["OPTINTEL_MAX_BATCH"] = 100
    opt_out_list = make_list()
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook",
                           "content_type": "json", "body": RULE_BODY, "timeout": 5},
              "email_list", opt_out_list.id)
    emails = [f"person{i}@example.com" for i in range(lines)]
    import_id = upload(api, opt_out_list, "\n".join(emails).encode())
    assert the_import(import_id).chunks == 120

    first = make_workers().start(1)
    wait_for(lambda: the_import(import_id).next_chunk >= 5, timeout=60,
             message="the first worker to be into the file")
    os.kill(first.procs[0].pid, signal.SIGKILL)
    first.procs[0].wait(10)
    killed_at = the_import(import_id)
    assert killed_at.status == ImportStatus.RUNNING and killed_at.next_chunk < 120, \
        "the import ended before the worker was killed"

    make_workers().start(1)
    wait_for(lambda: the_import(import_id).status == ImportStatus.DONE, timeout=120,
             message="the import to be done after a new worker started")
    done = the_import(import_id)
    assert (done.processed, done.added, done.existing, done.invalid) == (lines, lines, 0, 0)
    stored = fresh(sa.select(Contact.md5).where(Contact.list_id == opt_out_list.id))
    assert sorted(stored) == sorted(md5(e) for e in emails)
    event_md5s = fresh(sa.select(Event.contact_md5))
    assert len(event_md5s) == lines and set(event_md5s) == set(stored)

    # The rule's deliveries: one per added contact, each delivered.
    wait_for(lambda: count(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.status == DeliveryStatus.SUCCEEDED)) == lines, timeout=180,
        message="every delivery to succeed")
    delivered = db.session.execute(sa.select(Event.contact_md5).join(
        Delivery, Delivery.event_id == Event.id)).scalars().all()
    assert sorted(delivered) == sorted(stored)
    sent = {json.loads(r.body)["md5"] for r in http_sink.received("/hook")}
    assert sent == set(stored)


ENCODED = ["josé.müller@example.de", "plain@example.com", "françois@exemple.fr"]


def test_every_encoding_is_imported_by_the_workers(api, make_list, workers):
    encodings = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]
    imports = {}
    for encoding in encodings:
        for newline in ("\n", "\r\n"):
            opt_out_list = make_list()
            data = newline.join(["Email"] + ENCODED).encode(encoding)
            imports[(encoding, newline)] = (opt_out_list, upload(api, opt_out_list, data))
    workers.start(1)
    for (encoding, newline), (opt_out_list, import_id) in imports.items():
        wait_for(lambda: the_import(import_id).status == ImportStatus.DONE, timeout=60,
                 message=f"the {encoding} import")
        values = fresh(sa.select(Contact.value).where(Contact.list_id == opt_out_list.id))
        assert sorted(values) == sorted(ENCODED), (encoding, newline)


def _database_bytes(database_url):
    """The bytes of the SQLite database files (the database and its write-ahead log), read by
    another process: closing a file of the database in this one would drop every POSIX lock
    this process's connections hold on it, and the next process to close the database would
    take itself for the last one and remove the write-ahead log they still read from."""
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(subprocess.run(["cat", str(p)], capture_output=True, check=True).stdout
                    for p in (path, Path(f"{path}-wal")) if p.exists())


def _every_stored_value():
    """The text of every row of every table."""
    rows = []
    for table in db.metadata.sorted_tables:
        rows += [repr(tuple(row)) for row in db.session.execute(sa.select(table))]
    return "\n".join(rows)


def test_an_md5_only_lists_import_and_download_keep_no_plain_value_anywhere(
        app, api, make_list, make_rule, workers, http_sink, database_url, caplog):
    caplog.set_level(logging.DEBUG)
    opt_out_list = make_list(storage=Storage.MD5)
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook",
                           "content_type": "json", "body": RULE_BODY, "timeout": 5},
              "email_list", opt_out_list.id)
    emails = [f"Secret.Marker{i}@Marked-Domain.example" for i in range(50)]
    data = "\n".join(["email", *emails, "secret-marker-invalid"]).encode()
    import_id = upload(api, opt_out_list, data)
    workers.start(1)
    wait_for(lambda: the_import(import_id).status == ImportStatus.DONE, timeout=60,
             message="the import")
    assert (the_import(import_id).added, the_import(import_id).invalid) == (50, 1)
    wait_for(lambda: len(http_sink.received("/hook")) >= 50, timeout=60,
             message="the rule's deliveries")
    # Each streamed body is read before the next request, as a browser would.
    downloads = [api.get(f"/email-lists/{opt_out_list.id}/download?format={fmt}").get_data(
        as_text=True) for fmt in ("md5", "csv")]
    report = api.get(f"/email-lists/{opt_out_list.id}/imports/{import_id}/invalid-lines"
                     ).get_data(as_text=True)
    expected = sorted(md5(e.lower()) for e in emails)
    assert sorted(downloads[0].split()) == expected
    assert sorted(row.split(",")[0] for row in downloads[1].splitlines()[1:]) == expected
    assert report.splitlines()[1].startswith("52,,")
    db.session.rollback()
    markers = ("marker", "marked-domain")
    texts = {"tables": _every_stored_value().lower(), "worker logs": workers.logs().lower(),
             "app log": caplog.text.lower(),
             "sink": " ".join(r.body.decode() for r in http_sink.received()).lower(),
             "downloads": " ".join([*downloads, report]).lower()}
    if database_url.startswith("sqlite"):
        texts["database file"] = _database_bytes(database_url).lower().decode("latin-1")
    for where, text in texts.items():
        assert not any(marker in text for marker in markers), where
    assert "contact_md5" not in texts["tables"] or expected[0] in texts["tables"]
