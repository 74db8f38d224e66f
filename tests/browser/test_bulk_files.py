"""Bulk files in a real Chromium, with a real worker: upload on the Contacts page and watch the
progress bar reach the end, the counts and the invalid-lines report; select rows and Delete
selected with a confirmation naming the count; download the list in each format and compare
with what is stored."""
import hashlib
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from optintel.contact_changes import Origin, add_contacts
from optintel.extensions import db
from optintel.models import Contact, ContactSource, Event, Trigger

from tests.conftest import fresh

GOOD = 600


def md5(value):
    return hashlib.md5(value.encode()).hexdigest()


def test_upload_a_file_and_watch_it_to_the_end(app, page, login, admin, workers, make_list):
    app.config["OPTINTEL_MAX_BATCH"] = 20
    opt_out_list = make_list(name="Browser uploads")
    lines = [f"person{i}@example.com" for i in range(GOOD)]
    lines[10:10] = ["not-an-email"]
    lines[300:300] = ["y@"]
    workers.start(1)
    login(admin)
    page.goto(f"/lists/email/{opt_out_list.id}/contacts")
    page.set_input_files("input[name=file]", files=[{
        "name": "suppressions.csv", "mimeType": "text/csv",
        "buffer": ("email\r\n" + "\r\n".join(lines)).encode("utf-16")}])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash")).to_contain_text("“suppressions.csv”: 602 values to import.")

    card = page.locator(".card.import").first
    expect(card).to_have_attribute("data-status", "done", timeout=60_000)
    progress = card.locator("progress")
    expect(progress).to_have_attribute("value", "602")
    expect(progress).to_have_attribute("max", "602")
    expect(card.locator("[data-count=added]")).to_have_text(f"{GOOD}")
    expect(card.locator("[data-count=existing]")).to_have_text("0")
    expect(card.locator("[data-count=invalid]")).to_have_text("2")
    # The tab refreshed when the import ended: the count and the rows are the new ones.
    expect(page.locator("#contact-count")).to_have_text(f"{GOOD}")
    assert "hx-trigger" not in (card.get_attribute("hx-trigger") or "")

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(2500)
    assert not [url for url in requests if "/imports/" in url], "still polling after the end"

    with page.expect_download() as download:
        card.get_by_role("link", name="Download the invalid-lines report").click()
    report = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert report[0] == "line,value,reason"
    assert [row.split(",")[:2] for row in report[1:]] == [["12", "not-an-email"], ["302", "y@"]]


def test_select_rows_and_delete_them_with_the_confirmation(page, login, admin, make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, [f"row{i}@example.com" for i in range(5)],
                 Origin(ContactSource.MANUAL))
    login(admin)
    page.goto(f"/lists/email/{opt_out_list.id}/contacts")
    button = page.get_by_role("button", name="Delete selected")
    expect(button).to_be_disabled()
    page.get_by_label("Select row1@example.com").check()
    page.get_by_label("Select row3@example.com").check()
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()
    page.on("dialog", answer)
    button.click()
    expect(page.locator("#contacts .flash")).to_have_text("Deleted 2 contacts from the list.")
    assert questions == ["Delete 2 selected contacts from this list?"]
    assert sorted(fresh(sa.select(Contact.value))) == [
        "row0@example.com", "row2@example.com", "row4@example.com"]
    assert sorted(fresh(sa.select(Event.contact).where(
        Event.trigger == Trigger.CONTACT_DELETED))) == ["row1@example.com", "row3@example.com"]

    page.get_by_label("Select every contact of this page").check()
    questions.clear()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.locator("#contacts .flash")).to_have_text("Deleted 3 contacts from the list.")
    assert questions == ["Delete 3 selected contacts from this list?"]
    assert fresh(sa.select(Contact.value)) == []


def test_download_the_list_in_each_format(page, login, admin, make_list):
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["b@example.com", "a@example.com", "c@example.org"],
                 Origin(ContactSource.MANUAL))
    stored = db.session.execute(sa.select(Contact.value, Contact.md5, Contact.created_at)
                                .order_by(Contact.id)).all()
    login(admin)
    page.goto(f"/lists/email/{opt_out_list.id}/contacts")
    texts = {}
    for fmt in ("plain", "md5", "csv"):
        with page.expect_download() as download:
            page.locator(f"#downloads a[data-format={fmt}]").click()
        texts[fmt] = open(download.value.path(), encoding="utf-8").read()
    assert texts["plain"].splitlines() == [value for value, _, _ in stored]
    assert texts["md5"].splitlines() == [digest for _, digest, _ in stored]
    assert texts["csv"].splitlines() == ["email,md5,added_at"] + [
        f"{value},{digest},{at:%Y-%m-%dT%H:%M:%SZ}" for value, digest, at in stored]
    page.reload()
    rows = page.locator("table.downloads tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("admin@example.com")
    expect(rows.first).to_contain_text("CSV")
    assert re.search(r"Plain values", page.locator("table.downloads").inner_text())
