"""The Tracking Log in a real Chromium: filtering without a reload, with the filter in the
address bar, and opening a delivery's log behind the access confirmation. Deliveries come from
the real dispatcher and executor, run in this process against a real HTTP sink."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from redis import Redis
from rq import Queue

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.executor import execute
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus, LogAccess, ProjectSettings
from optintel.queue import DELIVERIES_QUEUE
from tests.conftest import Reply


@pytest.fixture
def log_rows(make_list, make_rule, http_sink):
    """Three succeeded deliveries of Ping URL rules and a failed one (ann's first attempt at
    /bad); their ids by status."""
    ProjectSettings.get().retry_schedule = "0"
    db.session.commit()
    for path in ("/ok", "/bad"):
        make_rule("ping_url", {"method": "POST", "url": http_sink.url + path,
                               "content_type": "json", "body": '{"contact": "{{contact}}"}'})
    http_sink.script("/bad", Reply(503, "busy"))
    for contact in ("ann.lee@example.com", "bob@example.com"):  # ann's /bad attempt fails
        event_ids = add_contacts(make_list(), [contact], Origin("api")).event_ids
        dispatch(event_ids)
        ids = db.session.scalars(sa.select(Delivery.id).where(Delivery.event_id.in_(event_ids)))
        assert execute(ids.all()) == 2
    db.session.rollback()
    by_status = {}
    for delivery in db.session.scalars(sa.select(Delivery)):
        by_status.setdefault(delivery.status, []).append(delivery.id)
    assert sorted(map(len, by_status.values())) == [1, 3]
    return by_status


def test_filter_the_log_without_a_reload(page, login, admin, log_rows):
    login(admin)
    page.goto("/logs/")
    rows = page.locator("#log-results tbody tr[id^=delivery-]")
    expect(rows).to_have_count(4)
    page.evaluate("window.notReloaded = true")

    page.select_option("select[name=status]", "failed")
    [failed] = log_rows[DeliveryStatus.FAILED]
    expect(rows).to_have_count(1)
    expect(page.locator(f"#delivery-{failed}")).to_contain_text("Failed")
    expect(page.locator(f"#delivery-{failed}")).to_contain_text("503")
    page.wait_for_url(re.compile(r"/logs/\?status=failed$"))
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator(".log-chart rect[data-status=failed]")).to_have_count(1)
    expect(page.locator(".log-chart rect[data-status=succeeded]")).to_have_count(0)

    page.fill("input[name=date_from]", "2024-02-01")
    page.select_option("select[name=status]", "succeeded")
    page.wait_for_url(re.compile(r"/logs/\?date_from=2024-02-01&status=succeeded$"))
    expect(rows).to_have_count(3)

    page.fill("input[name=contact]", "not a contact")
    page.press("input[name=contact]", "Enter")
    expect(page.locator("#contact-errors .error")).to_be_visible()
    page.fill("input[name=contact]", "BOB@example.com")
    page.press("input[name=contact]", "Enter")
    expect(page.locator("#contact-errors .error")).to_have_count(0)
    expect(rows).to_have_count(2)  # both rules' deliveries for bob
    assert page.evaluate("window.notReloaded") is True

    page.reload()  # the address is the filter
    expect(page.locator("select[name=status]")).to_have_value("succeeded")
    expect(page.locator("input[name=contact]")).to_have_value("BOB@example.com")
    expect(rows).to_have_count(2)


def test_open_a_log_with_confirmation(page, login, admin, log_rows):
    login(admin)
    [failed] = log_rows[DeliveryStatus.FAILED]
    page.goto("/logs/?status=failed")
    row = page.locator(f"#delivery-{failed}")
    expect(row).to_contain_text("a***@example.com")
    assert "ann.lee@example.com" not in page.content()

    row.locator("button:has-text('Log')").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Your access is recorded")
    assert "ann.lee@example.com" not in page.content()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LogAccess)) == 0

    dialog.locator("button:has-text('I confirm to get access')").click()
    expect(dialog).to_contain_text("Attempt 1 · failed")
    expect(dialog).to_contain_text("ann.lee@example.com")
    expect(dialog.locator("pre").first).to_contain_text('{"contact": "ann.lee@example.com"}')
    expect(dialog).to_contain_text("Status: 503")
    expect(dialog).to_contain_text("busy")
    db.session.rollback()
    [access] = db.session.scalars(sa.select(LogAccess)).all()
    assert (access.user_id, access.delivery_id) == (admin.id, failed)

    dialog.locator("button:has-text('Close')").last.click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    row.locator("button:has-text('Retry')").click()
    expect(row).to_contain_text("Pending")
    expect(row.locator("button:has-text('Retry')")).to_have_count(0)


def test_retry_all_offers_the_failed_ones_and_says_what_it_started(page, login, admin, log_rows,
                                                                  redis_server):
    """Retry all with no filter: the failed row by default, the succeeded ones only when ticked;
    then a message says how many were started, as after a row's own Retry."""
    queue = Queue(DELIVERIES_QUEUE, connection=Redis.from_url(redis_server.url))
    queue.empty()
    login(admin)
    page.goto("/logs/")
    page.get_by_role("button", name="Retry all").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("1 failed delivery matching this filter will be retried.")
    include = dialog.get_by_label(re.compile("Also retry the 3 succeeded deliveries"))
    expect(include).not_to_be_checked()
    expect(dialog.get_by_role("button", name="Retry 1 failed")).to_be_visible()

    include.check()
    expect(dialog).to_contain_text("4 deliveries matching this filter will be retried: "
                                   "1 failed and 3 succeeded.")
    expect(dialog.get_by_role("button", name="Retry 4")).to_be_visible()
    dialog.get_by_label(re.compile("Also retry the 3 succeeded")).uncheck()
    dialog.get_by_role("button", name="Retry 1 failed").click()
    expect(dialog).to_contain_text("Retry started: 1 delivery will be attempted again")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("Retry started: 1 delivery will be attempted again.")
    [job] = queue.get_jobs()
    assert job.args[1:] == (admin.id, log_rows[DeliveryStatus.FAILED][0], False)
    dialog.get_by_role("button", name="Close").last.click()

    [succeeded, *_] = log_rows[DeliveryStatus.SUCCEEDED]
    page.locator(f"#delivery-{succeeded}").get_by_role("button", name="Retry").click()
    expect(messages).to_contain_text(f"Delivery #{succeeded} will be attempted again.")
