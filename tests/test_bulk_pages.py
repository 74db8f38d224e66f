"""The bulk parts of a list's pages: the upload form and its errors, the progress card (polling
only while the import runs), Delete selected, downloads and their record, and the 404s of every
id a request names."""
import hashlib
import io
import json
import re

import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.imports import running
from optintel.models import (Contact, ContactImport, DownloadFormat, Event, ListDownload,
                             ListKind, Role, Storage, Trigger)
from optintel.contact_changes import Origin, add_contacts
from optintel.models import ContactSource


def md5(value):
    return hashlib.md5(value.encode()).hexdigest()


def page_upload(web, opt_out_list, data, name="values.txt", **form):
    return web.post_form(f"/lists/email/{opt_out_list.id}/imports",
                         {"file": (io.BytesIO(data), name), **form},
                         content_type="multipart/form-data")


def test_an_upload_shows_its_progress_card_which_polls_only_while_it_runs(as_admin, make_list):
    opt_out_list = make_list()
    response = page_upload(as_admin, opt_out_list, b"a@example.com\nbad\nb@example.com\n")
    assert response.status_code == 302
    page = as_admin.get(response.location).get_data(as_text=True)
    assert "“values.txt”: 3 values to import." in page
    (card,) = re.findall(r'<div class="card import".*?</div>\n', page, re.S)
    assert 'hx-trigger="every 1s"' in card and "Queued" in card and ">Cancel<" in card
    import_id = db.session.scalar(sa.select(ContactImport.id))
    assert running.run(import_id, slice_seconds=None) == "done"
    progress = as_admin.htmx("GET", f"/lists/email/{opt_out_list.id}/imports/{import_id}")
    card = progress.get_data(as_text=True)
    assert json.loads(progress.headers["HX-Trigger"]) == {"contactsChanged": None}
    assert "hx-trigger" not in card and "Done" in card
    assert '<dd data-count="added">2</dd>' in card and '<dd data-count="invalid">1</dd>' in card
    assert 'value="3"' in card and 'processed">3</span> of 3 values (100%)' in card
    assert "Download the invalid-lines report" in card
    report = as_admin.get(f"/lists/email/{opt_out_list.id}/imports/{import_id}/invalid-lines")
    assert report.get_data(as_text=True).splitlines() == [
        "line,value,reason", "2,bad,An email address must have an @-sign."]


@pytest.mark.parametrize("data, form, field, message", [
    (b"", {}, "file", "The file is empty."),
    (b"name,city\nAnn,Paris\n", {"column": "email"}, "column",
     "No column is named “email” in the header row (name, city)."),
    (b"a@example.com\n", {"campaign_id": "999"}, "campaign_id", "No such Email campaign: 999."),
])
def test_a_refused_upload_shows_why_beside_its_field(as_admin, make_list, field_errors, data,
                                                     form, field, message):
    opt_out_list = make_list()
    response = page_upload(as_admin, opt_out_list, data, name="x.csv", **form)
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True))[field] == [message]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0


def test_an_upload_to_a_grouped_list_says_why_on_its_contacts_tab(as_admin, make_list):
    group = make_list(kind=ListKind.GROUPED, members=[make_list()])
    response = page_upload(as_admin, group, b"a@example.com\n")
    assert response.status_code == 422
    assert "A Grouped list holds no contacts itself; change one of its lists." in \
        response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0


@pytest.mark.parametrize("named", ["mailer", "campaign"])
def test_a_list_owners_upload_naming_a_foreign_mailer_or_campaign_is_refused_beside_it(
        web, field_errors, make_user, make_list, make_mailer, make_campaign, named):
    """The mailer and the campaign of another owner's list are not the owner's to name."""
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner_id=owner.id), make_list(owner_id=other.id)
    make_campaign(lists=[mine], mailers=[make_mailer()])
    foreign = make_campaign(lists=[theirs], mailers=[make_mailer()])
    field, value, message = {
        "mailer": ("mailer_id", foreign.mailers[0].id, f"No such mailer: {foreign.mailers[0].id}."),
        "campaign": ("campaign_id", foreign.id, f"No such Email campaign: {foreign.id}.")}[named]
    web.login(owner)
    response = page_upload(web, mine, b"a@example.com\n", **{field: str(value)})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {field: [message]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactImport)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_the_api_download_of_another_owners_list_is_a_404(api_as, make_user, make_list):
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    theirs = make_list(owner_id=other.id)
    add_contacts(theirs, ["t@example.com"], Origin(ContactSource.MANUAL))
    api = api_as(owner)
    for fmt in ("plain", "md5", "csv"):
        response = api.get(f"/email-lists/{theirs.id}/download?format={fmt}")
        assert response.status_code == 404, fmt
        assert "t@example.com" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListDownload)) == 0


def test_an_upload_over_the_limit_says_the_limit(app, as_admin, make_list):
    app.config["OPTINTEL_MAX_UPLOAD_BYTES"] = 1 << 20
    opt_out_list = make_list()
    response = page_upload(as_admin, opt_out_list, b"a@example.com\n" * 80_000)
    assert response.status_code == 413
    assert "The file is larger than the upload limit of 1 MB." in response.get_data(as_text=True)


def test_cancel_from_the_page(as_admin, make_list):
    opt_out_list = make_list()
    page_upload(as_admin, opt_out_list, b"a@example.com\n")
    import_id = db.session.scalar(sa.select(ContactImport.id))
    card = as_admin.htmx("POST", f"/lists/email/{opt_out_list.id}/imports/{import_id}/cancel")
    assert "Cancelled" in card.get_data(as_text=True)
    assert "hx-trigger" not in card.get_data(as_text=True)


def test_delete_selected_deletes_those_rows_with_their_events(as_admin, make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["a@example.com", "b@example.com", "c@example.com"],
                 Origin(ContactSource.MANUAL))
    page = as_admin.get(f"/lists/email/{opt_out_list.id}/contacts").get_data(as_text=True)
    assert 'form="delete-selected"' in page and "data-confirm-selected" in page
    response = as_admin.htmx("POST", f"/lists/email/{opt_out_list.id}/contacts/delete-selected",
                             data={"md5": [md5("a@example.com"), md5("c@example.com")]})
    assert "Deleted 2 contacts from the list." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(sa.select(Contact.value)).all() == ["b@example.com"]
    deleted = db.session.scalars(sa.select(Event.contact).where(
        Event.trigger == Trigger.CONTACT_DELETED).order_by(Event.contact)).all()
    assert deleted == ["a@example.com", "c@example.com"]


def test_downloads_are_recorded_and_shown_on_the_lists_page(as_admin, admin, make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["b@example.com", "a@example.com"], Origin(ContactSource.MANUAL))
    plain = as_admin.get(f"/lists/email/{opt_out_list.id}/download?format=plain")
    assert plain.get_data(as_text=True) == "b@example.com\na@example.com\n"
    assert plain.headers["Content-Disposition"] == \
        f'attachment; filename="list-{opt_out_list.id}-plain.txt"'
    md5s = as_admin.get(f"/lists/email/{opt_out_list.id}/download?format=md5")
    assert md5s.get_data(as_text=True) == f"{md5('b@example.com')}\n{md5('a@example.com')}\n"
    rows = as_admin.get(f"/lists/email/{opt_out_list.id}/download?format=csv").get_data(
        as_text=True).splitlines()
    assert rows[0] == "email,md5,added_at"
    assert rows[1].startswith(f"b@example.com,{md5('b@example.com')},20")
    db.session.rollback()
    recorded = db.session.execute(sa.select(ListDownload.user_id, ListDownload.format)
                                  .order_by(ListDownload.id)).all()
    assert recorded == [(admin.id, DownloadFormat.PLAIN), (admin.id, DownloadFormat.MD5),
                        (admin.id, DownloadFormat.CSV)]
    page = as_admin.get(f"/lists/email/{opt_out_list.id}/contacts").get_data(as_text=True)
    table = page[page.index('<table class="downloads">'):]
    assert table.count("admin@example.com") == 3 and "Plain values" in table


def test_a_grouped_list_downloads_the_union_of_its_lists_each_contact_once(as_admin, make_list):
    first, second = make_list(), make_list()
    add_contacts(first, ["a@example.com", "b@example.com"], Origin(ContactSource.MANUAL))
    add_contacts(second, ["b@example.com", "c@example.com"], Origin(ContactSource.MANUAL))
    group = make_list(kind=ListKind.GROUPED, members=[first, second])
    text = as_admin.get(f"/lists/email/{group.id}/download?format=plain").get_data(as_text=True)
    assert sorted(text.splitlines()) == ["a@example.com", "b@example.com", "c@example.com"]
    settings = as_admin.get(f"/lists/email/{group.id}/edit").get_data(as_text=True)
    assert "admin@example.com" in settings and 'data-format="plain"' in settings


def test_an_md5_only_list_has_no_plain_download(as_admin, make_list):
    opt_out_list = make_list(storage=Storage.MD5)
    add_contacts(opt_out_list, ["a@example.com"], Origin(ContactSource.MANUAL))
    response = as_admin.get(f"/lists/email/{opt_out_list.id}/download?format=plain")
    assert response.status_code == 422
    assert "This list keeps MD5s only" in response.get_data(as_text=True)
    page = as_admin.get(f"/lists/email/{opt_out_list.id}/contacts").get_data(as_text=True)
    assert 'data-format="plain"' not in page and 'data-format="md5"' in page
    csv_rows = as_admin.get(f"/lists/email/{opt_out_list.id}/download?format=csv").get_data(
        as_text=True).splitlines()
    assert csv_rows[0] == "md5,added_at" and csv_rows[1].startswith(md5("a@example.com") + ",")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListDownload)) == 1


def test_every_id_of_a_bulk_request_is_checked(web, make_user, make_list):
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner_id=owner.id), make_list(owner_id=other.id)
    web.login(owner)
    theirs_import = ContactImport(list_id=theirs.id, file_name="x.txt")
    db.session.add(theirs_import)
    db.session.commit()
    add_contacts(theirs, ["t@example.com"], Origin(ContactSource.MANUAL))
    for method, url in [
            ("POST", f"/lists/email/{theirs.id}/imports"),
            ("GET", f"/lists/email/{theirs.id}/download?format=md5"),
            ("GET", f"/lists/email/{mine.id}/imports/{theirs_import.id}"),
            ("GET", f"/lists/email/{theirs.id}/imports/{theirs_import.id}"),
            ("POST", f"/lists/email/{mine.id}/imports/{theirs_import.id}/cancel"),
            ("GET", f"/lists/email/{mine.id}/imports/{theirs_import.id}/invalid-lines"),
            ("POST", f"/lists/email/{theirs.id}/contacts/delete-selected"),
            ("GET", f"/lists/phone/{mine.id}/download?format=md5")]:
        response = web.htmx(method, url, data={"md5": md5("t@example.com")}
                            if method == "POST" else None)
        assert response.status_code == 404, (method, url)
    # A selected MD5 of another list deletes nothing from it.
    web.htmx("POST", f"/lists/email/{mine.id}/contacts/delete-selected",
             data={"md5": md5("t@example.com")})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListDownload)) == 0


def test_a_grouped_list_of_other_owners_lists_downloads_their_contacts_as_md5s_only(
        web, api_as, make_user, make_list):
    """Plain values are for Global Admins and each list's own owner, in a download as on every
    page: the owner of a group sees the MD5s of the lists of others in it."""
    owner, other = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner_id=owner.id), make_list(owner_id=other.id)
    add_contacts(mine, ["mine@example.com"], Origin(ContactSource.MANUAL))
    add_contacts(theirs, ["theirs@example.com"], Origin(ContactSource.MANUAL))
    group = make_list(kind=ListKind.GROUPED, members=[mine, theirs], owner_id=owner.id)
    web.login(owner)
    response = web.get(f"/lists/email/{group.id}/download?format=plain")
    assert response.status_code == 422
    rows = web.get(f"/lists/email/{group.id}/download?format=csv").get_data(as_text=True)
    assert rows.splitlines()[0] == "md5,added_at" and "@example.com" not in rows
    assert 'data-format="plain"' not in web.get(f"/lists/email/{group.id}/edit").get_data(
        as_text=True)
    api = api_as(owner)
    assert api.get(f"/email-lists/{group.id}/download?format=plain").status_code == 422
    text = api.get(f"/email-lists/{group.id}/download?format=csv").get_data(as_text=True)
    assert "@example.com" not in text and md5("theirs@example.com") in text
    # Their own list alone downloads in clear.
    assert web.get(f"/lists/email/{mine.id}/download?format=plain").get_data(
        as_text=True).split() == ["mine@example.com"]
