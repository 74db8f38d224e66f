"""Every page of the dashboard, as each role, on a laptop (1366×900) and a phone (390×844), in a
real Chromium: the page never scrolls sideways, axe-core finds no serious or critical
violation, every file it asks for is there (the favicon too), and the browser reports no
violation of the Content-Security-Policy. A screenshot of each page is kept in
tests/artifacts/screenshots/<viewport>/<role>/ (ignored by git).

The pages are read from the app's url_map: every GET route outside the API and static files,
its ids filled with one object of each kind and each choice of its any() parts, kept when it
answers a whole HTML page to a Global Admin. A new page is covered without a change here."""
import io
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from optintel import imports, unsubscribe_links
from optintel.imports.running import run as run_import
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import (ApiKey, Channel, Delivery, ListKind, LogAccess, ProjectSettings,
                             Role, TrackingRule)
from optintel import rule_test_runs
from tests.browser.conftest import watch_violations
from tests.conftest import PASSWORD, Reply
from tests.test_log_pages import added, ping_rule

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SERIOUS = ("serious", "critical")
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
AXE = Axe()


@pytest.fixture
def world(make_user, make_list, make_campaign, make_mailer, make_rule, api_key, http_sink):
    """One object of each kind, held by the List Owner and the Campaign Manager where they may
    hold one, with rules at each level, deliveries that succeeded and failed, a test run, an API
    key and a log access record. Returns (users, {path name: {choice or None: id}})."""
    ProjectSettings.get().retry_schedule = "0"
    db.session.commit()
    owner = make_user(Role.LIST_OWNER, name="Olivia Owner")
    manager = make_user(Role.CAMPAIGN_MANAGER, name="Max Manager")
    admin = make_user(Role.GLOBAL_ADMIN, name="Ada Admin")
    mailer = make_mailer(nickname="northwind", company_name="Northwind Mailing Ltd")
    email_list = make_list(owner=owner, name="Unsubscribes")
    phone_list = make_list(Channel.PHONE, owner=owner, name="SMS STOP replies")
    make_list(kind=ListKind.GROUPED, members=[email_list], name="All email opt-outs")
    email_campaign = make_campaign(manager=manager, mailers=[mailer], lists=[email_list],
                                   name="Spring Sale")
    sms_campaign = make_campaign(Channel.PHONE, manager=manager, lists=[phone_list],
                                 name="Appointment Reminders")
    http_sink.script("/down", *[Reply(503, "busy")] * 5)
    rule_ids = [ping_rule(make_rule, http_sink.url + "/crm"),
                ping_rule(make_rule, http_sink.url + "/down", "email_list", email_list.id),
                ping_rule(make_rule, http_sink.url + "/crm", "email_campaign", email_campaign.id),
                ping_rule(make_rule, http_sink.url + "/crm", "phone_list", phone_list.id)]
    do_not_call = make_list(Channel.PHONE, name="Do not call")
    make_rule("add_to_list", {"list_id": do_not_call.id}, level="sms_campaign",
              scope_id=sms_campaign.id)
    added(email_list, "ann.lee@example.com", "bob.kim@example.org", mailer_id=mailer.id,
          campaign_id=email_campaign.id)
    added(phone_list, "+12025550147")
    delivery_ids = db.session.scalars(db.select(Delivery.id)).all()
    assert execute(delivery_ids) == len(delivery_ids)
    run = rule_test_runs.start(db.session.get(TrackingRule, rule_ids[0]), {}, admin)
    rule_test_runs.execute(run.id)
    db.session.add(LogAccess(user=admin, delivery_id=delivery_ids[0]))
    db.session.commit()
    api_key(admin)
    key_id = db.session.scalar(db.select(ApiKey.id))
    # An import of a small file, worked through here: a finished one's card polls no more,
    # so that leaving the page breaks off no request (its routes are a card and a CSV).
    contact_import = imports.start(email_list, io.BytesIO(b"cy.lin@example.net\nnot-an-email\n"),
                                   file_name="more.txt", user=admin, hand_off=False)
    run_import(contact_import.id, slice_seconds=None)
    ids = {"list_id": {"email": email_list.id, "phone": phone_list.id},
           "campaign_id": {"email": email_campaign.id, "phone": sms_campaign.id},
           "mailer_id": {None: mailer.id}, "user_id": {None: owner.id}, "key_id": {None: key_id},
           "rule_id": {None: rule_ids[0]}, "scope_id": {None: 0},
           "delivery_id": {None: delivery_ids[0]}, "run_id": {None: run.id},
           "import_id": {None: contact_import.id}}
    users = {Role.GLOBAL_ADMIN: admin, Role.CAMPAIGN_MANAGER: manager, Role.LIST_OWNER: owner}
    return users, ids, (email_campaign, mailer)


def paths_of(rule, ids):
    """The paths of a route: one per choice of its any() parts, ids taken from `ids`."""
    choices = [[None]]
    for converter, arguments, _ in _PLACEHOLDER.findall(rule.rule):
        if converter == "any":
            choices = [c + [choice.strip()] for c in choices for choice in arguments.split(",")]
    paths = []
    for combination in choices:
        picked = iter(combination[1:])
        chosen = []

        def fill(match):
            converter, _, name = match.groups()
            if converter == "any":
                chosen.append(next(picked))
                return chosen[-1]
            by_choice = ids[name]
            return str(by_choice.get(chosen[0] if chosen else None, next(iter(by_choice.values()))))
        paths.append(_PLACEHOLDER.sub(fill, rule.rule))
    return paths


def dashboard_pages(app, client, ids):
    """The paths of the dashboard's whole pages, as a Global Admin's client finds them."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static/")):
            continue
        for path in paths_of(rule, ids):
            response = client.get(path)
            if response.status_code == 200 and response.mimetype == "text/html" and \
                    response.get_data(as_text=True).lstrip().lower().startswith("<!doctype html"):
                pages.append(path)
    return pages


def slug(path):
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def check(page, path, where):
    """What is wrong with the page just opened: sideways scrolling, serious axe violations."""
    problems = []
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)""")
        problems.append(f"{where} {path}: scrolls sideways ({widths[0]} > {widths[1]}): {wide}")
    results = AXE.run(page)
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
            problems.append(f"{where} {path}: axe {violation['impact']} {violation['id']}: "
                            f"{violation['help']} at {targets}")
    return problems


def visit_all(context, paths, where):
    """Open every path in one page of the context; the problems found, screenshots kept."""
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
    violations = watch_violations(page)
    problems = []
    shots = ARTIFACTS / where
    shots.mkdir(parents=True, exist_ok=True)
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        problems += check(page, path, where)
        page.screenshot(path=shots / f"{slug(path)}.png", full_page=True)
    return problems + [f"{where}: {line}" for line in failed + violations]


def logged_in(browser, live_server, viewport, user):
    context = browser.new_context(base_url=live_server, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.close()
    return context


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_every_page_fits_and_passes_axe_for_each_role(app, browser, live_server, web, world,
                                                      viewport):
    users, ids, _ = world
    web.login(users[Role.GLOBAL_ADMIN])
    paths = dashboard_pages(app, web.client, ids)
    assert "/" in paths and "/logs/" in paths and "/settings/opt-intel/tracking" in paths
    assert f"/lists/phone/{ids['list_id']['phone']}/tracking" in paths
    problems = []
    for role, user in users.items():
        context = logged_in(browser, live_server, VIEWPORTS[viewport], user)
        problems += visit_all(context, paths, f"{viewport}/{role.value}")
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=str)
def test_the_pages_without_a_login_fit_and_pass_axe(app, browser, live_server, world, viewport):
    _, _, (campaign, mailer) = world
    with app.test_request_context(base_url=live_server):
        link = unsubscribe_links.url_of(campaign, mailer)
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[viewport])
    problems = visit_all(context, ["/login", link[len(live_server):]], f"{viewport}/visitor")
    context.close()
    assert not problems, "\n".join(problems)
