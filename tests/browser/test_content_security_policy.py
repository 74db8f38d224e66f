"""The pop-ups, their close buttons and the delete confirmations work in a real Chromium under
the app's Content-Security-Policy, and the browser reports no violation of it on the way."""
import sqlalchemy as sa
from playwright.sync_api import expect

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import Delivery, Mailer, ProjectSettings, TestRun

from tests.browser.conftest import row_action
from tests.conftest import Reply, fresh


def test_the_listener_reports_a_violation(page, login, admin, violations):
    """The check below can fail: an inline script is refused, and reported."""
    login(admin)
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.inlineRan = true"; document.head.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan") is None
    assert [text for text in violations if "CSP violation: script-src" in text]


def test_click_through_the_pop_ups_without_a_violation(page, login, admin, violations,
                                                       make_list, make_rule, make_mailer,
                                                       http_sink, workers):
    ProjectSettings.get().retry_schedule = "0"
    db.session.commit()
    watched = make_list(name="CSP list")
    rule_id = make_rule("ping_url", {"method": "GET", "url": http_sink.url + "/csp?e={{email}}"},
                        "email_list", watched.id)
    http_sink.script("/csp", Reply(503, "busy"))
    event_ids = add_contacts(watched, ["csp@example.com"], Origin("api")).event_ids
    dispatch(event_ids)
    assert execute(db.session.scalars(sa.select(Delivery.id)).all()) == 1
    [failed] = fresh(sa.select(Delivery.id))
    mailer = make_mailer(nickname="to-delete")
    still_there = sa.select(Mailer).where(Mailer.id == mailer.id)
    workers.start(1)  # for the Test Run; the delivery above was made and run here
    login(admin)

    # Add Rule: both steps, Back, the ✕ and Cancel.
    page.goto(f"/lists/email/{watched.id}/tracking")
    page.click("button:has-text('Add Rule')")
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Step 1 of 2")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    page.click("button:has-text('Add Rule')")
    dialog.locator("select[name=action]").select_option("ping_url")
    dialog.locator("button:has-text('Next')").click()
    expect(dialog).to_contain_text("Step 2 of 2")
    dialog.locator("button:has-text('Back')").click()
    expect(dialog).to_contain_text("Step 1 of 2")
    dialog.locator("button:has-text('Next')").click()
    # Step 2's own Cancel: clicked before it arrives, step 1's would close a dialog that the
    # answer then fills and opens again.
    expect(dialog).to_contain_text("Step 2 of 2")
    dialog.locator("button:has-text('Cancel')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    # Test Run: Cancel, then a run to its result.
    row = page.locator(f"#rule-{rule_id}")
    row_action(row, "Test Run")
    expect(dialog).to_contain_text(f"Test Run · Rule #{rule_id}")
    dialog.locator("button:has-text('Cancel')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    row_action(row, "Test Run")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.locator("#test-run-result")).to_contain_text("Succeeded", timeout=15_000)
    dialog.get_by_role("button", name="Close").first.click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    # The Tracking Log: a delivery's log behind its confirmation, Retry all, a Test Run's log.
    page.goto("/logs/")
    delivery = page.locator(f"#delivery-{failed}")
    delivery.locator("button:has-text('Log')").click()
    expect(dialog).to_contain_text("Your access is recorded")
    dialog.locator("button:has-text('Cancel')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    delivery.locator("button:has-text('Log')").click()
    dialog.locator("button:has-text('I confirm to get access')").click()
    expect(dialog).to_contain_text("Attempt 1 · failed")
    dialog.locator("button:has-text('Close')").last.click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    page.click("button:has-text('Retry all')")
    expect(dialog).to_contain_text("will be retried")
    dialog.locator("button:has-text('Cancel')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    [run] = fresh(sa.select(TestRun))
    page.goto("/logs/test-runs")
    page.locator(f"#test-run-{run.id}").locator("button:has-text('Log')").click()
    dialog.locator("button:has-text('I confirm to get access')").click()
    expect(dialog).to_contain_text(f"Log of test run #{run.id}")
    dialog.locator("button:has-text('Close')").last.click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    # A delete's confirmation: dismissed keeps the mailer, accepted deletes it.
    page.goto("/mailers/")
    page.once("dialog", lambda question: question.dismiss())
    page.locator("tr", has_text="to-delete").get_by_role("button", name="Delete").click()
    page.wait_for_timeout(300)
    assert fresh(still_there)
    page.once("dialog", lambda question: question.accept())
    page.locator("tr", has_text="to-delete").get_by_role("button", name="Delete").click()
    expect(page.locator("tr", has_text="to-delete")).to_have_count(0)
    assert not fresh(still_there)

    assert violations == []
