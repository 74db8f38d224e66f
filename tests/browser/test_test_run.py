"""Test Run in a real Chromium: from a list's Tracking tab, through a real worker process, to an
HTTP sink on loopback, and then in the Tracking Log's Test Runs tab."""
import sqlalchemy as sa
from playwright.sync_api import expect

from optintel.models import TestRun

from tests.browser.conftest import row_action
from tests.conftest import fresh

TYPED = "browser+typed@example.org"


def test_test_run_from_a_list_tracking_tab(page, login, admin, workers, http_sink, make_list,
                                           make_rule):
    workers.start(1)
    watched = make_list(name="Browser list")
    rule_id = make_rule("ping_url", {"method": "GET",
                                     "url": http_sink.url + "/browser?e={{email}}&l={{list_name}}"},
                        "email_list", watched.id)
    login(admin)
    page.goto(f"/lists/email/{watched.id}/tracking")
    row_action(page.locator(f"#rule-{rule_id}"), "Test Run")

    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text(f"Test Run · Rule #{rule_id}")
    expect(dialog.locator("input[name=email]")).to_have_value("jane.doe@example.com")
    expect(dialog.locator("input[name=list_name]")).to_have_value("Browser list")
    dialog.locator("input[name=email]").fill(TYPED)
    dialog.get_by_role("button", name="Confirm").click()

    result = dialog.locator("#test-run-result")
    expect(result).to_contain_text("Succeeded", timeout=15_000)
    expect(result.locator(".response-status")).to_have_text("200")
    expect(result.locator(".response-body")).to_have_text("ok")
    [received] = http_sink.received("/browser")
    assert received.query == {"e": [TYPED], "l": ["Browser list"]}
    [run] = fresh(sa.select(TestRun))
    assert run.rule_id == rule_id and run.values["email"] == TYPED

    # The pop-up stopped polling: no further request for its result after it settled.
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(1500)
    assert not [url for url in requests if "/test-runs/" in url]

    result.get_by_role("link", name="See it in Test Runs").click()
    page.wait_for_url("**/logs/test-runs**")
    expect(page.locator(f"#test-run-{run.id}")).to_be_visible()
