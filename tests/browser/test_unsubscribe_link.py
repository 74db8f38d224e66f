"""The unsubscribe link in a real Chromium: a Global Admin opens a mailer's link from the
campaign's page, unsubscribes an address on the public page, sees the confirmation, then finds
the contact in the list and the campaign rule's delivery in the Tracking Log, with the mailer
and the campaign. The delivery comes from the real dispatcher and executor, run in this process
against a real HTTP sink. The browser reports no violation of the Content-Security-Policy."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from optintel import unsubscribe_links
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus, Event
from tests.browser.test_content_security_policy import violations  # noqa: F401  (a fixture)

ADDRESS = "ann.lee@example.com"


@pytest.fixture
def campaign(make_campaign, make_mailer, make_list, make_rule, http_sink):
    """Spring Sale, sent by northwind and bluebird into "Unsubscribes", with a campaign rule
    that pings the sink with the mailer and the campaign."""
    campaign = make_campaign(name="Spring Sale", lists=[make_list(name="Unsubscribes")],
                             mailers=[make_mailer(nickname="northwind",
                                                  company_name="Northwind Mailing Ltd"),
                                      make_mailer(nickname="bluebird")])
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/unsubscribed",
                           "content_type": "json",
                           "body": '{"contact": "{{contact}}", "mailer": "{{mailer_name}}", '
                                   '"campaign": "{{campaign_name}}", "source": "{{source}}"}'},
              level="email_campaign", scope_id=campaign.id)
    return campaign


def deliver():
    """Dispatch the recorded events and execute their deliveries, as the workers would."""
    db.session.rollback()
    dispatch(db.session.scalars(sa.select(Event.id)).all())
    ids = db.session.scalars(sa.select(Delivery.id)).all()
    assert execute(ids) == 1
    db.session.rollback()
    return db.session.scalars(sa.select(Delivery)).one()


def test_unsubscribe_from_the_campaign_page_to_the_tracking_log(page, login, admin, campaign,
                                                                http_sink, violations):
    login(admin)
    page.goto(f"/campaigns/email/{campaign.id}/edit")
    card = page.locator("#unsubscribe-links [data-mailer=northwind]")
    expect(card).to_contain_text("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    card.locator("a.link-url").click()

    expect(page.locator("h1")).to_have_text("Unsubscribe from Spring Sale")
    expect(page.locator("input[name=email]")).to_have_value("")
    page.fill("input[name=email]", "Ann.Lee@Example.com")
    page.click("button:has-text('Unsubscribe')")
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    expect(page.locator("[role=status]")).to_contain_text(
        f"{ADDRESS} will get no more messages of “Spring Sale”")

    delivery = deliver()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [received] = http_sink.received("/unsubscribed")
    assert received.body == (b'{"contact": "ann.lee@example.com", '
                             b'"mailer": "Northwind Mailing Ltd", '
                             b'"campaign": "Spring Sale", "source": "unsubscribe"}')

    [opt_out_list] = campaign.opt_out_lists
    page.goto(f"/lists/email/{opt_out_list.id}/contacts")
    row = page.locator("#contacts tbody tr", has_text=ADDRESS)
    expect(row).to_contain_text("Unsubscribe link")
    expect(row).to_contain_text("northwind")
    expect(row).to_contain_text("Spring Sale")

    page.goto("/logs/")
    northwind = next(m for m in campaign.mailers if m.nickname == "northwind")
    page.select_option("select[name=mailer_id]", str(northwind.id))
    page.select_option("select[name=campaign_id]", str(campaign.id))
    page.wait_for_url(re.compile(rf"mailer_id={northwind.id}&campaign_id={campaign.id}$"))
    rows = page.locator("#log-results tbody tr[id^=delivery-]")
    expect(rows).to_have_count(1)
    log_row = page.locator(f"#delivery-{delivery.id}")
    expect(log_row).to_contain_text("Email Campaign")
    expect(log_row).to_contain_text("Succeeded")
    log_row.locator("button:has-text('Log')").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("button:has-text('I confirm to get access')").click()
    expect(dialog.locator("pre").first).to_contain_text('"mailer": "Northwind Mailing Ltd"')
    expect(dialog.locator("pre").first).to_contain_text('"campaign": "Spring Sale"')

    # The other mailer's filter shows nothing: the delivery is northwind's.
    page.goto(f"/logs/?mailer_id={next(m.id for m in campaign.mailers if m != northwind)}")
    expect(page.locator("#log-results tbody tr[id^=delivery-]")).to_have_count(0)
    assert violations == []


def test_the_public_page_works_without_javascript(app, browser, live_server, campaign):
    """No script runs on it; the form alone unsubscribes, and no cookie is set."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        assert page.goto("/unsubscribe?t=nonsense").status == 404
        expect(page.locator("h1")).to_have_text("Not Found")
        with app.test_request_context(base_url=live_server):
            url = unsubscribe_links.url_of(campaign, campaign.mailers[0], ADDRESS)
        shown = page.goto(url)
        expect(page.locator("input[name=email]")).to_have_value(ADDRESS)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.click("button:has-text('Unsubscribe')")
        expect(page.locator("h1")).to_have_text("You are unsubscribed")
        for response in (shown, posted.value):
            assert response.status == 200 and "set-cookie" not in response.all_headers()
    finally:
        context.close()
