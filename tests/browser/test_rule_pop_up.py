"""The Add Rule pop-up in a real Chromium: on an error the first invalid field takes focus, in
view, under a summary of the fields to correct; focus goes back to the button that opened it;
the placeholder picker inserts {{name}} at the cursor; multi-selects are searchable; and every
change made from the rules table says what it did."""
import pytest
from playwright.sync_api import expect

from optintel.extensions import db
from optintel.models import Channel, Status, TrackingRule
from tests.browser.conftest import row_action


@pytest.fixture
def email_tab(make_list):
    return f"/lists/email/{make_list(Channel.EMAIL).id}/tracking"


def step_two(page, action="ping_url"):
    page.click("button:has-text('Add Rule')")
    dialog = page.locator("dialog[open]")
    dialog.locator("select[name=action]").select_option(action)
    dialog.locator("button:has-text('Next')").click()
    expect(dialog).to_contain_text("Step 2 of 2")
    return dialog


def focused(page):
    return page.evaluate("document.activeElement && (document.activeElement.name || "
                         "document.activeElement.id)")


def in_view(page, selector):
    """Whether the element is inside the visible part of the dialog's scrolling body."""
    return page.evaluate("""(selector) => {
        const field = document.querySelector(selector).getBoundingClientRect();
        const body = document.querySelector("dialog[open] .body").getBoundingClientRect();
        return field.top >= body.top && field.bottom <= body.bottom; }""", selector)


def test_an_error_below_the_fold_takes_focus_under_a_summary(page, login, admin, email_tab):
    login(admin)
    page.set_viewport_size({"width": 1366, "height": 700})
    page.goto(email_tab)
    dialog = step_two(page)
    dialog.locator("input[name=url]").fill("https://example.com/hook")
    dialog.locator("input[name=timeout]").fill("99")
    dialog.locator("button:has-text('Save')").click()
    summary = dialog.locator(".error-summary")
    expect(summary).to_contain_text("Check this field: Timeout (seconds)")
    expect(dialog.locator(".field.has-error input[name=timeout]")).to_be_focused()
    assert in_view(page, "dialog[open] input[name=timeout]")
    assert db.session.query(TrackingRule).count() == 0

    dialog.locator("input[name=url]").fill("not a url")
    dialog.locator("button:has-text('Save')").click()
    expect(summary).to_contain_text("Check these 2 fields: URL, Timeout (seconds)")
    expect(dialog.locator("input[name=url]")).to_be_focused()  # the first of them
    summary.get_by_role("link", name="Timeout (seconds)").click()
    expect(dialog.locator("input[name=timeout]")).to_be_focused()
    assert in_view(page, "dialog[open] input[name=timeout]")


def test_focus_goes_to_the_first_field_then_back_to_the_opener(page, login, admin, email_tab,
                                                              make_rule):
    login(admin)
    page.goto(email_tab)
    page.click("button:has-text('Add Rule')")
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("select[name=trigger]")).to_be_focused()
    dialog.locator("button:has-text('Next')").click()
    expect(dialog.locator("select[name=method]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.locator("#add-rule")).to_be_focused()

    page.click("button:has-text('Add Rule')")
    dialog.locator("button:has-text('Next')").click()
    dialog.locator("input[name=url]").fill("https://example.com/hook")
    dialog.locator("button:has-text('Save')").click()
    expect(page.locator(".rules-panel tbody tr[data-rule-id]")).to_have_count(1)
    expect(page.locator("#add-rule")).to_be_focused()  # also after the table came back

    rule = page.locator(".rules-panel tbody tr[data-rule-id]")
    row_action(rule, "Test Run")
    page.locator("dialog[open]").get_by_role("button", name="Cancel").click()
    expect(rule.locator(".row-menu-button")).to_be_focused()  # the menu it was in is closed


def test_the_placeholder_picker_inserts_at_the_cursor(page, login, admin, email_tab):
    login(admin)
    page.goto(email_tab)
    dialog = step_two(page)
    url = dialog.locator("input[name=url]")
    url.fill("https://example.com/hook?e=&list=1")
    url.evaluate("field => field.setSelectionRange(27, 27)")  # after "e="
    picker = dialog.get_by_label("Insert a placeholder into URL")
    expect(picker.locator("option")).to_have_count(17)  # "Insert a placeholder…" and the 16
    picker.select_option("{{email}}")
    expect(url).to_have_value("https://example.com/hook?e={{email}}&list=1")
    expect(url).to_be_focused()
    expect(picker).to_have_value("")
    dialog.locator("select[name=method]").select_option("POST")
    body = dialog.locator("textarea[name=body]")
    body.fill('{"md5": ""}')
    body.evaluate("field => field.setSelectionRange(9, 9)")  # between the quotes
    dialog.get_by_label("Insert a placeholder into Body").select_option("{{contact_md5}}")
    expect(body).to_have_value('{"md5": "{{contact_md5}}"}')
    dialog.locator("button:has-text('Save')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    rule = db.session.query(TrackingRule).one()
    assert rule.action_settings["url"] == "https://example.com/hook?e={{email}}&list=1"
    assert rule.action_settings["body"] == '{"md5": "{{contact_md5}}"}'


def test_multi_selects_are_searchable(page, login, admin, make_list, make_mailer):
    unsubscribes = make_list(name="Unsubscribes")
    make_list(name="Spam complaints")
    make_list(Channel.PHONE, name="SMS STOP replies")
    acme = make_mailer(nickname="acme", company_name="Acme Mail")
    make_mailer(nickname="bluebird")
    login(admin)
    page.goto("/settings/opt-intel/tracking")
    dialog = step_two(page)
    lists = dialog.get_by_role("combobox", name="Contacts List")
    lists.press_sequentially("unsub")
    options = dialog.locator(".ts-dropdown:visible .option")
    expect(options).to_have_count(1)
    expect(options).to_have_text("Unsubscribes (Email)")
    page.keyboard.press("Enter")
    expect(dialog.locator(".ts-control .item")).to_have_text(["Unsubscribes (Email)×"])
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(1)  # Escape closes the search only
    mailers = dialog.get_by_role("combobox", name="Mailers")
    mailers.click()
    mailers.press_sequentially("ACME")
    expect(options).to_have_text(["acme — Acme Mail"])
    options.first.click()
    expect(dialog.locator(".ts-control .item")).to_have_text(["Unsubscribes (Email)×",
                                                              "acme — Acme Mail×"])
    dialog.locator("input[name=url]").fill("https://example.com/hook")
    dialog.locator("button:has-text('Save')").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    rule = db.session.query(TrackingRule).one()
    assert rule.trigger_settings == {"contact_list_ids": [unsubscribes.id],
                                     "mailer_ids": [acme.id]}


def test_each_change_from_the_rules_table_says_what_it_did(page, login, admin, email_tab):
    login(admin)
    page.goto(email_tab)
    messages = page.locator("#messages")
    dialog = step_two(page)
    dialog.locator("input[name=url]").fill("https://example.com/hook")
    dialog.locator("button:has-text('Save')").click()
    expect(messages).to_contain_text("added.")
    rule_id = db.session.query(TrackingRule.id).scalar()
    expect(messages).to_contain_text(f"Rule #{rule_id} added.")
    row = page.locator(f"#rule-{rule_id}")

    row_action(row, "Edit")
    page.locator("dialog[open] button:has-text('Save')").click()
    expect(messages).to_contain_text(f"Rule #{rule_id} saved.")
    row_action(row, "Disable")
    expect(messages).to_contain_text(f"Rule #{rule_id} disabled.")
    expect(row).to_contain_text("Disabled")
    row_action(row, "Enable")
    expect(messages).to_contain_text(f"Rule #{rule_id} enabled.")
    db.session.expire_all()
    assert db.session.get(TrackingRule, rule_id).status == Status.ACTIVE
    page.once("dialog", lambda confirm: confirm.accept())
    row_action(row, "Delete")
    expect(messages).to_contain_text(f"Rule #{rule_id} deleted.")
    expect(messages.get_by_role("status")).to_have_count(5)
    messages.get_by_role("button", name="Dismiss").first.click()
    expect(messages.get_by_role("status")).to_have_count(4)
