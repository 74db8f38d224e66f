"""The Add Rule pop-up, Edit, Disable, Delete and Adjacent Rules in a real Chromium, at all
five levels where SPEC §5 puts a Tracking tab."""
import pytest
from playwright.sync_api import expect

from optintel.extensions import db
from optintel.models import Channel, Status, TrackingRule
from tests.browser.conftest import row_action


@pytest.fixture
def tabs(make_list, make_campaign, make_mailer):
    """The Tracking tab URL of each level, with a mailer to pick where the level has Mailers."""
    make_mailer(nickname="acme")
    email_campaign, sms_campaign = make_campaign(Channel.EMAIL), make_campaign(Channel.PHONE)
    email_list, phone_list = make_list(Channel.EMAIL), make_list(Channel.PHONE)
    return {
        "project": "/settings/opt-intel/tracking",
        "email_campaign": f"/campaigns/email/{email_campaign.id}/tracking",
        "sms_campaign": f"/campaigns/phone/{sms_campaign.id}/tracking",
        "email_list": f"/lists/email/{email_list.id}/tracking",
        "phone_list": f"/lists/phone/{phone_list.id}/tracking",
    }


def add_ping_rule(page, url="https://example.com/hook?e={{contact}}", with_mailer=False):
    page.click("button:has-text('Add Rule')")
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Step 1 of 2")
    dialog.locator("select[name=trigger]").select_option("contact_added")
    dialog.locator("select[name=action]").select_option("ping_url")
    dialog.locator("button:has-text('Next')").click()
    expect(dialog).to_contain_text("Step 2 of 2")
    if with_mailer:
        dialog.locator("select[name=mailer_ids]").select_option(label="acme — Mailer Co 1")
    dialog.locator("input[name=url]").fill(url)
    dialog.locator("button:has-text('Save')").click()
    return dialog


@pytest.mark.parametrize("level", ["project", "email_campaign", "sms_campaign", "email_list",
                                   "phone_list"])
def test_add_rule_pop_up_at_each_level(page, login, admin, tabs, level):
    login(admin)
    page.goto(tabs[level])
    expect(page.locator(".rules-panel")).to_contain_text("No tracking rules yet")
    dialog = add_ping_rule(page, url="not a url", with_mailer=level != "email_list" and
                           level != "phone_list")
    expect(dialog.locator(".error")).to_contain_text("Enter an http:// or https:// URL.")
    expect(dialog).to_be_visible()
    assert db.session.query(TrackingRule).count() == 0
    dialog.locator("input[name=url]").fill("https://example.com/hook?e={{contact}}")
    dialog.locator("button:has-text('Save')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    row = page.locator(".rules-panel tbody tr").first
    expect(row).to_contain_text("[Opt-Intel] Contact Added")
    expect(row).to_contain_text("Ping URL")
    expect(row).to_contain_text("https://example.com/hook?e={{contact}}")
    rule = db.session.query(TrackingRule).one()
    assert rule.level.value == level


def test_back_then_next_keeps_typed_values(page, login, admin, tabs):
    login(admin)
    page.goto(tabs["email_list"])
    page.click("button:has-text('Add Rule')")
    dialog = page.locator("dialog[open]")
    dialog.locator("select[name=action]").select_option("slack")
    dialog.locator("button:has-text('Next')").click()
    dialog.locator("textarea[name=text]").fill("Typed before going back")
    dialog.locator("button:has-text('Back')").click()
    expect(dialog).to_contain_text("Step 1 of 2")
    expect(dialog.locator("select[name=action]")).to_have_value("slack")
    dialog.locator("button:has-text('Next')").click()
    expect(dialog.locator("textarea[name=text]")).to_have_value("Typed before going back")


def test_edit_disable_delete(page, login, admin, tabs):
    login(admin)
    page.goto(tabs["email_list"])
    add_ping_rule(page)
    expect(page.locator("dialog[open]")).to_have_count(0)
    row = page.locator(".rules-panel tbody tr").first
    row.locator("button:has-text('Edit')").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Edit Rule #")
    dialog.locator("input[name=url]").fill("https://example.com/edited")
    dialog.locator("button:has-text('Save')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(row).to_contain_text("https://example.com/edited")

    row_action(row, "Disable")
    expect(page.locator(".rules-panel tbody tr").first).to_contain_text("Disabled")
    db.session.expire_all()
    assert db.session.query(TrackingRule).one().status == Status.DISABLED

    page.once("dialog", lambda confirm: confirm.accept())
    row_action(page.locator(".rules-panel tbody tr").first, "Delete")
    expect(page.locator(".rules-panel")).to_contain_text("No tracking rules yet")
    assert db.session.query(TrackingRule).count() == 0


def test_adjacent_rules_filter_and_reset(page, login, admin, tabs):
    login(admin)
    page.goto(tabs["email_list"])
    for url in ("https://example.com/a", "https://example.com/b", "https://example.com/c"):
        add_ping_rule(page, url=url)
        expect(page.locator("dialog[open]")).to_have_count(0)
    rows = page.locator(".rules-panel tbody tr")
    expect(rows).to_have_count(3)
    rows.first.locator("td.adjacent a").click()
    expect(page.locator(".rules-panel")).to_contain_text("Showing the rules adjacent to rule #")
    expect(rows).to_have_count(2)
    expect(page.locator(".rules-panel tbody")).not_to_contain_text("https://example.com/a")
    page.click("button:has-text('Reset')")
    expect(rows).to_have_count(3)
