"""File imports through the API, worked through in this process (the tests with real workers
are in test_imports_workers.py): TXT and CSV, every encoding, add and delete, attribution,
the invalid-lines report, bad files, the size limit, cancelling, and resuming at the cursor."""
import csv
import hashlib
import io

import pytest
import sqlalchemy as sa

from optintel import imports
from optintel.extensions import db
from optintel.imports import running
from optintel.models import (Channel, Contact, ContactImport, ContactSource, Event, ImportChunk,
                             ListKind, Role, Storage, Trigger)


def md5(value):
    return hashlib.md5(value.encode()).hexdigest()


def upload(api, opt_out_list, data, name="values.txt", channel="email", **form):
    """POST the file to the list's imports; the response."""
    body = {"file": (io.BytesIO(data), name), **{k: str(v) for k, v in form.items()}}
    return api.request("POST", f"/{channel}-lists/{opt_out_list.id}/imports", data=body,
                       content_type="multipart/form-data")


def imported(api, opt_out_list, data, **kwargs):
    """Upload, run the import here to its end, and return its API representation."""
    response = upload(api, opt_out_list, data, **kwargs)
    assert response.status_code == 202, response.json
    assert response.json["status"] == "queued"
    assert running.run(response.json["id"], slice_seconds=None) == "done"
    channel = kwargs.get("channel", "email")
    shown = api.get(f"/{channel}-lists/{opt_out_list.id}/imports/{response.json['id']}")
    assert shown.status_code == 200
    return shown.json


def values_of(opt_out_list):
    db.session.rollback()
    return sorted(db.session.scalars(sa.select(Contact.value).where(
        Contact.list_id == opt_out_list.id)), key=str)


def events():
    db.session.rollback()
    return db.session.scalars(sa.select(Event).order_by(Event.id)).all()


def report(api, opt_out_list, import_id, channel="email"):
    response = api.get(f"/{channel}-lists/{opt_out_list.id}/imports/{import_id}/invalid-lines")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


TXT = "kept@example.com\n\n  New@Example.com\nnot-an-email\nnew@example.com\nx@\n\nthird@example.org\n"


def test_a_txt_file_adds_its_values_with_their_events_and_reports_its_invalid_lines(
        api, make_list, make_mailer, make_campaign):
    opt_out_list, mailer = make_list(), make_mailer()
    campaign = make_campaign(lists=[opt_out_list], mailers=[mailer])
    imported(api, opt_out_list, b"kept@example.com\n")
    result = imported(api, opt_out_list, TXT.encode(), mailer_id=mailer.id,
                      campaign_id=campaign.id)
    assert {k: result[k] for k in ("status", "mode", "total", "processed", "added", "existing",
                                   "invalid", "deleted", "missing", "format", "encoding")} == {
        "status": "done", "mode": "add", "total": 6, "processed": 6, "added": 2, "existing": 2,
        "invalid": 2, "deleted": 0, "missing": 0, "format": "txt", "encoding": "utf_8"}
    assert values_of(opt_out_list) == ["kept@example.com", "new@example.com", "third@example.org"]
    added = [e for e in events() if e.mailer_id == mailer.id]
    assert sorted(e.contact for e in added) == ["new@example.com", "third@example.org"]
    assert {(e.trigger, e.source, e.campaign_id) for e in added} == {
        (Trigger.CONTACT_ADDED, ContactSource.UPLOAD, campaign.id)}
    rows = report(api, opt_out_list, result["id"])
    assert rows[0] == ["line", "value", "reason"]
    assert [row[:2] for row in rows[1:]] == [["4", "not-an-email"], ["6", "x@"]]
    assert rows[1][2].startswith("An email address must have an @-sign")
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 3
    # Done: the file's values are no longer kept, only the report.
    assert db.session.scalars(sa.select(ImportChunk.payload)).all() == [None, None]


UNICODE = ["josé.müller@example.de", "plain@example.com", "françois@exemple.fr"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "latin-1", "cp1252"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_every_encoding_and_line_end_is_read(api, make_list, encoding, newline):
    opt_out_list = make_list()
    data = newline.join(["email"] + UNICODE + ["bad"]).encode(encoding)
    result = imported(api, opt_out_list, data, name="list.txt")
    assert (result["added"], result["invalid"]) == (3, 1)
    assert values_of(opt_out_list) == sorted(UNICODE)
    assert report(api, opt_out_list, result["id"])[1][:2] == ["5", "bad"]


def test_a_csv_file_reads_the_column_named_in_its_header(api, make_list):
    opt_out_list = make_list()
    data = ('Name;E-Mail;Note\r\nAnn;ann@example.com;"two\r\nlines"\r\nBob;bob@example.com;x\r\n'
            'Eve;nope;y\r\n').encode()
    result = imported(api, opt_out_list, data, name="export.csv", column="e-mail")
    assert (result["format"], result["column"], result["added"], result["invalid"]) == (
        "csv", "E-Mail", 2, 1)
    assert values_of(opt_out_list) == ["ann@example.com", "bob@example.com"]
    # The quoted cell spans lines 2 and 3: Eve is on line 5 of the file.
    assert report(api, opt_out_list, result["id"])[1][:2] == ["5", "nope"]


def test_a_csv_file_without_a_column_named_finds_the_column_and_its_header(api, make_list):
    opt_out_list = make_list()
    data = b"id,email,created\n1,ann@example.com,2024-01-01\n2,bob@example.com,2024-01-02\n"
    result = imported(api, opt_out_list, data, name="export.csv")
    assert (result["column"], result["added"], result["invalid"]) == ("email", 2, 0)
    headerless = make_list()
    data = b"1,ann@example.com,x\n2,bob@example.com,y\n"
    result = imported(api, headerless, data, name="values")
    assert (result["format"], result["column"], result["added"]) == ("csv", "column 2", 2)
    by_number = make_list()
    result = imported(api, by_number, b"a@example.com,b@example.com\n", name="x.csv", column="2")
    assert values_of(by_number) == ["b@example.com"]


def test_phone_numbers_are_imported_in_e164(api, make_list):
    opt_out_list = make_list(Channel.PHONE)
    result = imported(api, opt_out_list, b"(202) 555-0123\n+44 20 7946 0018\n12345\n",
                      channel="phone")
    assert (result["added"], result["invalid"]) == (2, 1)
    assert values_of(opt_out_list) == ["+12025550123", "+442079460018"]


def test_delete_mode_deletes_values_and_md5s_and_counts_the_missing(api, make_list):
    opt_out_list = make_list()
    imported(api, opt_out_list, b"a@example.com\nb@example.com\nc@example.com\n")
    data = f"A@example.com\n{md5('b@example.com')}\nmissing@example.com\nbad\n".encode()
    result = imported(api, opt_out_list, data, mode="delete")
    assert {k: result[k] for k in ("deleted", "missing", "invalid", "added")} == {
        "deleted": 2, "missing": 1, "invalid": 1, "added": 0}
    assert values_of(opt_out_list) == ["c@example.com"]
    deleted = [e for e in events() if e.trigger == Trigger.CONTACT_DELETED]
    assert sorted(e.contact for e in deleted) == ["a@example.com", "b@example.com"]
    assert {e.source for e in deleted} == {ContactSource.UPLOAD}


def test_an_md5_only_list_takes_values_and_md5s_and_keeps_no_value(api, make_list):
    opt_out_list = make_list(storage=Storage.MD5)
    data = f"Secret.Person@example.com\n{md5('other@example.com').upper()}\nsecret-bad\n".encode()
    result = imported(api, opt_out_list, data)
    assert (result["added"], result["invalid"]) == (2, 1)
    assert values_of(opt_out_list) == [None, None]
    assert sorted(db.session.scalars(sa.select(Contact.md5))) == sorted(
        [md5("secret.person@example.com"), md5("other@example.com")])
    assert {e.contact for e in events()} == {None}
    # The report names the line and the reason, not the value.
    assert report(api, opt_out_list, result["id"])[1][:2] == ["3", ""]


@pytest.mark.parametrize("data, name, field, message", [
    (b"", "empty.txt", "file", "The file is empty."),
    (b"\r\n\r\n  \n", "blank.txt", "file", "The file is empty."),
    (b"email\n", "header.txt", "file", "The file holds no values besides its header row."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "image.txt", "file",
     "This is not a text file (TXT or CSV); it looks binary."),
    (b"name,city\nAnn,Paris\nBob,Rome\n", "people.csv", "column",
     "No column of the file holds email addresses or MD5s; name the column to read."),
    (b"name,email\nAnn,a@example.com\n", "people.csv", "column", None),
])
def test_a_file_that_holds_no_values_is_refused_with_a_message_and_nothing_kept(
        api, make_list, data, name, field, message):
    opt_out_list = make_list()
    response = upload(api, opt_out_list, data, name=name,
                      **({"column": "mail"} if message is None else {}))
    assert response.status_code == 422
    messages = response.json["error"]["fields"][field]
    if message is None:
        assert messages == ["No column is named “mail” in the header row (name, email)."]
    else:
        assert messages == [message]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportChunk)) == 0


def test_an_upload_over_the_limit_answers_413_and_keeps_nothing(app, api, make_list):
    opt_out_list = make_list()
    app.config["OPTINTEL_MAX_UPLOAD_BYTES"] = 2000
    response = upload(api, opt_out_list, b"a@example.com\n" * 200)
    assert response.status_code == 413
    assert response.json["error"]["message"] == \
        "The file is larger than the upload limit of 2,000 bytes."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0


def test_a_chunked_upload_over_the_limit_says_the_upload_limit_too(app, api, make_list):
    """A body without a Content-Length (Transfer-Encoding: chunked, as gunicorn passes it on) is
    cut at the upload limit while it is read, and says that limit."""
    opt_out_list = make_list()
    app.config["OPTINTEL_MAX_UPLOAD_BYTES"] = 2000
    response = api.request(
        "POST", f"/email-lists/{opt_out_list.id}/imports",
        data={"file": (io.BytesIO(b"a@example.com\n" * 200), "values.txt")},
        content_type="multipart/form-data",
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.json["error"]["message"] == \
        "The file is larger than the upload limit of 2,000 bytes."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0


def test_an_upload_may_be_larger_than_an_ordinary_request(app, api, make_list):
    opt_out_list = make_list()
    app.config["MAX_CONTENT_LENGTH"] = 500
    result = imported(api, opt_out_list, b"".join(b"a%d@example.com\n" % i for i in range(100)))
    assert result["added"] == 100


def test_attribution_and_every_id_are_checked(api, api_as, make_user, make_list, make_mailer,
                                              make_campaign):
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner_id=owner.id), make_list(owner_id=other.id)
    as_owner = api_as(owner)
    response = upload(as_owner, theirs, b"a@example.com\n")
    assert response.status_code == 404
    stranger = make_campaign(mailers=[make_mailer()])
    response = upload(as_owner, mine, b"a@example.com\n", campaign_id=stranger.id)
    assert response.status_code == 422 and "campaign_id" in response.json["error"]["fields"]
    response = upload(as_owner, mine, b"a@example.com\n", mailer_id="x")
    assert response.json["error"]["fields"] == {"mailer_id": ["Not an id."]}
    response = upload(as_owner, mine, b"a@example.com\n", mode="merge")
    assert response.json["error"]["fields"] == {"mode": ["Choose add or delete."]}
    theirs_import = upload(api, theirs, b"a@example.com\n").json["id"]
    for path in (f"/email-lists/{mine.id}/imports/{theirs_import}",
                 f"/email-lists/{theirs.id}/imports/{theirs_import}",
                 f"/email-lists/{mine.id}/imports/{theirs_import}/invalid-lines",
                 f"/phone-lists/{theirs.id}/imports/{theirs_import}"):
        assert as_owner.get(path).status_code == 404, path
    assert as_owner.post(f"/email-lists/{mine.id}/imports/{theirs_import}/cancel").status_code \
        == 404
    group = make_list(kind=ListKind.GROUPED, members=[mine])
    assert upload(api, group, b"a@example.com\n").status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_a_list_owners_upload_naming_a_mailer_they_may_not_attribute_to_is_refused(
        api_as, make_user, make_list, make_mailer, make_campaign):
    """A List Owner names the mailers of the campaigns using the list, and no other."""
    owner = make_user(Role.LIST_OWNER)
    mine = make_list(owner_id=owner.id)
    make_campaign(lists=[mine], mailers=[make_mailer()])
    foreign = make_mailer()
    response = upload(api_as(owner), mine, b"a@example.com\n", mailer_id=foreign.id)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"mailer_id": [f"No such mailer: {foreign.id}."]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportChunk)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_a_cancelled_import_stops_at_its_next_chunk(app, api, make_list):
    app.config["OPTINTEL_MAX_BATCH"] = 2
    opt_out_list = make_list()
    import_id = upload(api, opt_out_list, b"a@example.com\nb@example.com\nc@example.com\n").json["id"]
    contact_import = db.session.get(ContactImport, import_id)
    assert running._claim(import_id)
    running._run_chunk(contact_import)
    response = api.post(f"/email-lists/{opt_out_list.id}/imports/{import_id}/cancel")
    assert response.json["status"] == "cancelled"
    db.session.execute(sa.update(ContactImport).values(leased_until=None))
    db.session.commit()
    assert running.run(import_id, slice_seconds=None) == "held"
    assert values_of(opt_out_list) == ["a@example.com", "b@example.com"]
    assert api.get(f"/email-lists/{opt_out_list.id}/imports/{import_id}").json["processed"] == 2


def test_a_chunk_another_job_already_did_is_not_done_twice(app, api, make_list):
    app.config["OPTINTEL_MAX_BATCH"] = 2
    opt_out_list = make_list()
    import_id = upload(api, opt_out_list, b"a@example.com\nb@example.com\nc@example.com\n").json["id"]
    stale = db.session.get(ContactImport, import_id)
    assert running._claim(import_id)
    seq = stale.next_chunk
    running._run_chunk(stale)
    # A job that read the cursor before that commit runs the same chunk: it does nothing.
    stale = db.session.get(ContactImport, import_id)
    db.session.expire(stale)
    stale.__dict__.update(next_chunk=seq)
    with pytest.raises(running.Superseded):
        running._run_chunk(stale)
    db.session.rollback()
    assert len(events()) == 2
    # A lapsed lease: another job takes the import over and finishes it from the cursor.
    db.session.execute(sa.update(ContactImport).values(leased_until=None))
    db.session.commit()
    assert running.run(import_id, slice_seconds=None) == "done"
    assert values_of(opt_out_list) == ["a@example.com", "b@example.com", "c@example.com"]
    assert len(events()) == 3


def test_lost_imports_are_handed_out_again(app, api, make_list, redis_server):
    from redis import Redis
    from rq import Queue
    opt_out_list = make_list()
    import_id = upload(api, opt_out_list, b"a@example.com\n").json["id"]
    queued = Queue("imports", connection=Redis.from_url(redis_server.url))
    assert queued.count == 1
    assert imports.hand_off_lost(60) == 0
    assert imports.hand_off_lost(0) == 1
    assert queued.count == 2
    assert running._claim(import_id)
    assert imports.hand_off_lost(0) == 0


def test_the_command_line_imports_through_the_same_code(app, make_list, tmp_path):
    opt_out_list = make_list()
    runner = app.test_cli_runner()
    path = tmp_path / "export.csv"
    path.write_bytes("Name,Email\r\nJosé,josé@example.com\r\nAnn,ann@example.com\r\n"
                     "Bad,bad\r\n".encode("utf-16"))
    result = runner.invoke(args=["lists", "import", str(opt_out_list.id), str(path)])
    assert result.output.splitlines() == [
        "line 4: bad: An email address must have an @-sign.", "Added: 2", "Existing: 0",
        "Invalid: 1"]
    assert values_of(opt_out_list) == ["ann@example.com", "josé@example.com"]
    assert {e.source for e in events()} == {ContactSource.UPLOAD}
    path.write_text("ann@example.com\nnobody@example.com\n")
    result = runner.invoke(args=["lists", "import", str(opt_out_list.id), str(path), "--delete",
                                 "--column", "1"])
    assert result.output.splitlines() == ["Deleted: 1", "Missing: 1", "Invalid: 0"]
    assert values_of(opt_out_list) == ["josé@example.com"]
    result = runner.invoke(args=["lists", "import", str(opt_out_list.id), str(tmp_path / "e.txt")])
    assert result.exit_code == 2
    (tmp_path / "e.txt").write_bytes(b"")
    result = runner.invoke(args=["lists", "import", str(opt_out_list.id), str(tmp_path / "e.txt")])
    assert result.exit_code == 1 and "file: The file is empty." in result.output


def test_a_chunk_is_one_transaction_and_a_failed_one_records_where_the_import_stopped(
        app, api, make_list, monkeypatch):
    app.config["OPTINTEL_MAX_BATCH"] = 2
    opt_out_list = make_list()
    import_id = upload(api, opt_out_list, b"a@example.com\nb@example.com\n\nc@example.com\n"
                                          b"d@example.com\n").json["id"]
    calls = []

    def cursor_fails_at_the_second_chunk(adding, outcome):
        calls.append(outcome.changed)
        if len(calls) == 2:
            raise RuntimeError("the database refused the cursor")
        return {"added": ContactImport.__table__.c.added + outcome.changed}
    monkeypatch.setattr(running, "_counted", cursor_fails_at_the_second_chunk)
    assert running.run(import_id, slice_seconds=None) == "stopped"
    # The second chunk's contacts and events went with its cursor; the first chunk's stayed.
    assert values_of(opt_out_list) == ["a@example.com", "b@example.com"]
    assert sorted(e.contact for e in events()) == ["a@example.com", "b@example.com"]
    state = api.get(f"/email-lists/{opt_out_list.id}/imports/{import_id}").json
    assert (state["status"], state["processed"], state["added"]) == ("failed", 2, 2)
    assert state["error"] == "Stopped at line 3: an internal error; the lines before it were " \
                             "imported."
    db.session.refresh(opt_out_list)
    assert opt_out_list.contact_count == 2


def test_an_upload_whose_ids_are_not_ids_is_a_422_beside_the_field(api, make_list):
    opt_out_list = make_list()
    for value in ("²", "2147483648", "-1", "1e3"):
        response = upload(api, opt_out_list, b"a@example.com\n", mailer_id=value)
        assert response.status_code == 422, (value, response.json)
        assert response.json["error"]["fields"]["mailer_id"] == ["Not an id."]
