"""System Management > Logs > Tracking Log: All Events (filters, masking, the Log dialog behind a
recorded confirmation, retry and retry all, polling, the chart), Test Runs, the access records,
and the log retention setting. Deliveries come from the real dispatcher and executor, run in
this process against a real HTTP sink on loopback; retry all goes through a real Redis."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from optintel import jobs
from optintel.tracking_log import counts
from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.deliveries.executor import execute
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import (Channel, Delivery, DeliveryCount, DeliveryStatus, LogAccess,
                             ProjectSettings, Role, Storage, TrackingRule)
from optintel.normalize import md5_of
from optintel.queue import DELIVERIES_QUEUE
from optintel import rule_test_runs
from optintel.deliveries import retry_by_hand
from tests.conftest import Reply, statements_of

EMAIL, PHONE = "ann.lee@example.com", "+12025550147"
POLLING = 'hx-trigger="every 2s"'


# ---- helpers ------------------------------------------------------------------------------

def ping_rule(make_rule, url, level="project", scope_id=None, trigger="contact_added"):
    """A Ping URL rule whose body carries the contact, created through the API."""
    return make_rule("ping_url", {"method": "POST", "url": url, "content_type": "json",
                                  "body": '{"contact": "{{contact}}"}', "timeout": 2},
                     level=level, scope_id=scope_id, trigger=trigger)


def added(opt_out_list, *values, **origin):
    """Add the contacts and dispatch their events here; the events' ids."""
    event_ids = add_contacts(opt_out_list, list(values), Origin("api", **origin)).event_ids
    dispatch(event_ids)
    return event_ids


def deliveries(**where):
    db.session.rollback()
    query = sa.select(Delivery).where(*(getattr(Delivery, k) == v for k, v in where.items()))
    return db.session.scalars(query.order_by(Delivery.id)).all()


def set_status(delivery_id, status, **columns):
    delivery = db.session.get(Delivery, delivery_id)
    delivery.status = status
    for name, value in columns.items():
        setattr(delivery, name, value)
    db.session.commit()


def text(response):
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def row_ids(html):
    return [int(i) for i in re.findall(r'<tr id="delivery-(\d+)"', html)]


def run_ids(html):
    return [int(i) for i in re.findall(r'<tr id="test-run-(\d+)"', html)]


def schedule(delays):
    ProjectSettings.get().retry_schedule = delays
    db.session.commit()


def deliveries_queue(redis_server):
    return Queue(DELIVERIES_QUEUE, connection=Redis.from_url(redis_server.url))


# ---- who sees which rows ------------------------------------------------------------------

@pytest.fixture
def world(make_user, make_list, make_campaign, make_rule):
    """A List Owner's list and a Campaign Manager's campaign (scrubbed against another list),
    rules on each of them and a Project rule, one event on each list: five deliveries."""
    owner, manager = make_user(Role.LIST_OWNER), make_user(Role.CAMPAIGN_MANAGER)
    owned, scrubbed = make_list(owner=owner), make_list()
    campaign = make_campaign(manager=manager, lists=[scrubbed])
    url = "http://127.0.0.1:9/hook"
    rules = {"project": ping_rule(make_rule, url),
             "owned": ping_rule(make_rule, url, "email_list", owned.id),
             "scrubbed": ping_rule(make_rule, url, "email_list", scrubbed.id),
             "campaign": ping_rule(make_rule, url, "email_campaign", campaign.id)}
    added(owned, "a@example.com")
    added(scrubbed, "b@example.com")
    by_rule = {}
    for delivery in deliveries():
        by_rule.setdefault(delivery.rule_id, []).append(delivery.id)
    assert sum(map(len, by_rule.values())) == 5
    users = {"owner": owner, "manager": manager, "admin": make_user(Role.GLOBAL_ADMIN)}
    return users, {name: by_rule[rule_id] for name, rule_id in rules.items()}


@pytest.mark.parametrize("who, visible", [
    ("admin", ["project", "owned", "scrubbed", "campaign"]),
    ("owner", ["owned"]),
    ("manager", ["campaign"]),
])
def test_each_role_sees_only_the_rows_of_the_rules_it_manages(web, world, redis_server, who,
                                                              visible):
    users, by_rule = world
    web.login(users[who])
    shown = sorted(d for name in visible for d in by_rule[name])
    assert sorted(row_ids(text(web.get("/logs/")))) == shown
    assert sorted(row_ids(text(web.htmx("GET", "/logs/?status=pending")))) == shown
    for delivery in deliveries():
        set_status(delivery.id, DeliveryStatus.FAILED)
        expected = 200 if delivery.id in shown else 404
        base = f"/logs/deliveries/{delivery.id}"
        assert web.htmx("GET", base).status_code == expected
        assert web.htmx("GET", base + "/log").status_code == expected
        assert web.htmx("POST", base + "/log").status_code == expected
        assert web.htmx("POST", base + "/retry").status_code == expected
        assert deliveries(id=delivery.id)[0].status == \
            (DeliveryStatus.PENDING if expected == 200 else DeliveryStatus.FAILED)
    db.session.rollback()
    assert sorted(a.delivery_id for a in db.session.scalars(sa.select(LogAccess))) == shown


def test_the_log_needs_a_login(web):
    for url in ("/logs/", "/logs/test-runs", "/logs/deliveries/1", "/logs/access"):
        response = web.get(url)
        assert response.status_code == 302 and response.location.startswith("/login")


def test_the_menu_entry_and_the_tabs(as_admin):
    page = text(as_admin.get("/"))
    assert 'href="/logs/"' in page
    page = text(as_admin.get("/logs/"))
    assert "Tracking Log" in page and "shows deliveries once tracking rules run" in page
    assert re.search(r'<a role="tab" href="/logs/"\s+class="active"[^>]*>All Events</a>', page)
    assert re.search(r'<a role="tab" href="/logs/test-runs"\s*>Test Runs</a>', page)
    assert 'href="/logs/access"' in page


def test_a_rules_tracking_tab_links_to_its_rows(as_admin, make_list, make_rule):
    opt_out_list = make_list()
    rule_id = ping_rule(make_rule, "http://127.0.0.1:9/hook", "email_list", opt_out_list.id)
    page = text(as_admin.get(f"/lists/email/{opt_out_list.id}/tracking"))
    assert f'href="/logs/?rule_id={rule_id}"' in page


# ---- filters -------------------------------------------------------------------------------

@pytest.fixture
def varied(make_list, make_mailer, make_campaign, make_rule):
    """Four deliveries that each filter tells apart: a Project rule on two lists (one row three
    days old), a campaign's Add to list rule, and a list's rule on deletions at another host."""
    email_list, phone_list, target = make_list(), make_list(Channel.PHONE), make_list()
    mailer = make_mailer()
    campaign = make_campaign(lists=[email_list], mailers=[mailer])
    rules = {"project": ping_rule(make_rule, "http://127.0.0.1:9/a"),
             "deleted": ping_rule(make_rule, "http://localhost:9/b", "email_list", email_list.id,
                                  trigger="contact_deleted"),
             "campaign": make_rule("add_to_list", {"list_id": target.id}, level="email_campaign",
                                   scope_id=campaign.id)}
    added(email_list, EMAIL, mailer_id=mailer.id, campaign_id=campaign.id)
    added(phone_list, "(202) 555-0147")
    dispatch(remove_contacts(email_list, [EMAIL], Origin("api")).event_ids)
    rows = {}
    for delivery in deliveries():
        name = {rules["project"]: "project_" + delivery.channel.value,
                rules["deleted"]: "deleted", rules["campaign"]: "campaign"}[delivery.rule_id]
        rows[name] = delivery.id
    three_days_ago = datetime.now(timezone.utc) - timedelta(days=3)
    set_status(rows["project_email"], DeliveryStatus.SUCCEEDED)
    set_status(rows["campaign"], DeliveryStatus.FAILED)
    set_status(rows["project_phone"], DeliveryStatus.PENDING, created_at=three_days_ago)
    set_status(rows["deleted"], DeliveryStatus.RETRYING)
    ids = {"email_list": email_list.id, "phone_list": phone_list.id, "mailer": mailer.id,
           "campaign": campaign.id, **{f"rule_{k}": v for k, v in rules.items()},
           "yesterday": (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat(),
           "three_days_ago": three_days_ago.date().isoformat()}
    return ids, rows


ALL = ["project_email", "project_phone", "campaign", "deleted"]
FILTERS = [
    ("date_from={yesterday}", ["project_email", "campaign", "deleted"]),
    ("date_to={three_days_ago}", ["project_phone"]),
    ("date_from={three_days_ago}&date_to={three_days_ago}", ["project_phone"]),
    ("level=project", ["project_email", "project_phone"]),
    ("level=email_campaign", ["campaign"]),
    ("level=email_list&scope_id={email_list}", ["deleted"]),
    ("level=email_campaign&scope_id={campaign}", ["campaign"]),
    ("level=email_list&scope_id={phone_list}", []),
    ("trigger=contact_deleted", ["deleted"]),
    ("trigger=contact_added", ["project_email", "project_phone", "campaign"]),
    ("action=add_to_list", ["campaign"]),
    ("action=ping_url", ["project_email", "project_phone", "deleted"]),
    ("status=failed", ["campaign"]),
    ("status=pending", ["project_phone"]),
    ("status=succeeded", ["project_email"]),
    ("status=retrying", ["deleted"]),
    ("host=localhost", ["deleted"]),
    ("host=127.0.0.1", ["project_email", "project_phone"]),
    ("list_id={phone_list}", ["project_phone"]),
    ("list_id={email_list}", ["project_email", "campaign", "deleted"]),
    # The deletion keeps the mailer and campaign the contact came through.
    ("mailer_id={mailer}", ["project_email", "campaign", "deleted"]),
    ("campaign_id={campaign}", ["project_email", "campaign", "deleted"]),
    ("rule_id={rule_deleted}", ["deleted"]),
    ("rule_id={rule_project}", ["project_email", "project_phone"]),
    ("contact=%20Ann.Lee%40Example.COM%20", ["project_email", "campaign", "deleted"]),
    ("contact=(202)%20555-0147", ["project_phone"]),
    ("contact=" + md5_of(PHONE).upper(), ["project_phone"]),
    ("contact=nobody%40example.com", []),
    ("status=failed&list_id={email_list}&mailer_id={mailer}", ["campaign"]),
    ("", ALL),
]


@pytest.mark.parametrize("query, expected", FILTERS, ids=[q or "none" for q, _ in FILTERS])
def test_each_filter(as_admin, varied, query, expected):
    ids, rows = varied
    url = "/logs/?" + query.format(**ids)
    want = sorted((rows[name] for name in expected), reverse=True)
    assert row_ids(text(as_admin.get(url))) == want
    fragment = text(as_admin.htmx("GET", url))
    assert row_ids(fragment) == want
    assert "<html" not in fragment and 'id="log-results"' in fragment


def test_filters_form_keeps_the_values_and_the_address_drops_empty_ones(as_admin, varied):
    ids, _ = varied
    response = as_admin.htmx("GET", f"/logs/?status=failed&host=&list_id={ids['email_list']}"
                                    "&contact=")
    assert response.headers["HX-Push-Url"] == f"/logs/?status=failed&list_id={ids['email_list']}"
    page = text(as_admin.get(f"/logs/?status=failed&list_id={ids['email_list']}"))
    assert '<option selected value="failed">Failed</option>' in page
    assert f'<option selected value="{ids["email_list"]}">' in page
    form = page[page.index('<form id="log-filters"'):]
    form = form[:form.index("</form>")]
    assert 'hx-get="/logs/"' in form and 'hx-target="#log-results"' in form
    assert 'hx-push-url="true"' in form and 'hx-trigger="change, submit"' in form
    names = re.findall(r'name="([a-z_]+)"', form)
    assert names == ["date_from", "date_to", "level", "scope_id", "trigger", "action", "status",
                     "host", "list_id", "mailer_id", "campaign_id", "rule_id", "contact"]


@pytest.mark.parametrize("query, field, message", [
    ("date_from=yesterday", "date_from", "Give a date as YYYY-MM-DD."),
    ("date_to=2024-13-01", "date_to", "Give a date as YYYY-MM-DD."),
    ("status=done", "status", "Choose one of: pending, succeeded, retrying, failed, skipped, "
                              "held."),
    ("level=galaxy", "level", "Choose one of:"),
    ("list_id=first", "list_id", "Give a number."),
    ("rule_id=-1", "rule_id", "Give a number."),
    ("contact=not%20a%20contact", "contact", ""),
])
def test_invalid_filter_values_are_shown_beside_their_field(as_admin, field_errors, query, field,
                                                            message):
    errors = field_errors(text(as_admin.get(f"/logs/?{query}")))
    assert list(errors) == [field] and errors[field][0].startswith(message) and errors[field][0]
    fragment = text(as_admin.htmx("GET", f"/logs/?{query}"))
    slot = re.search(rf'<div id="{field}-errors" class="error-slot" hx-swap-oob="true">(.*?)</div>\s*</div>',
                     fragment, re.S)
    assert slot and 'role="alert"' in slot.group(1)
    # The other fields' slots come back empty, so an error that was corrected goes away.
    assert re.search(r'<div id="host-errors" class="error-slot" hx-swap-oob="true"></div>',
                     fragment)


# ---- masking and the Log dialog -------------------------------------------------------------

@pytest.fixture
def masked(make_list, make_rule, http_sink):
    """A delivery for an email, a phone number and an MD5-only list's contact, each attempted
    once against the sink with the contact in the request body."""
    email_list, phone_list = make_list(), make_list(Channel.PHONE)
    md5_list = make_list(storage=Storage.MD5)
    ping_rule(make_rule, http_sink.url + "/hook")
    added(email_list, EMAIL)
    added(phone_list, PHONE)
    added(md5_list, "secret.person@example.com")
    found = {d.channel.value + ("_md5" if d.list_id == md5_list.id else ""): d.id
             for d in deliveries()}
    assert execute(list(found.values())) == 3
    return found


def test_contacts_are_masked_everywhere_before_confirmation(as_admin, masked):
    pages = [text(as_admin.get("/logs/")), text(as_admin.htmx("GET", "/logs/?status=succeeded")),
             *(text(as_admin.htmx("GET", f"/logs/deliveries/{d}")) for d in masked.values()),
             *(text(as_admin.htmx("GET", f"/logs/deliveries/{d}/log")) for d in masked.values())]
    for page in pages:
        for plain in (EMAIL, PHONE, "secret.person", "2025550147", "ann.lee"):
            assert plain not in page
    listing = pages[0]
    assert "a***@example.com" in listing and "+1******0147" in listing
    assert md5_of("secret.person@example.com") in listing
    confirmation = pages[-1]
    assert "I confirm to get access" in confirmation and "recorded" in confirmation
    assert "Attempt 1" not in confirmation
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LogAccess)) == 0


def test_confirming_access_records_it_and_shows_every_attempt(as_admin, admin, masked, http_sink):
    delivery_id = masked["email"]
    page = text(as_admin.htmx("POST", f"/logs/deliveries/{delivery_id}/log"))
    assert EMAIL in page  # the contact line and the request body
    assert f'{{&#34;contact&#34;: &#34;{EMAIL}&#34;}}' in page
    assert "Attempt 1" in page and f"POST {http_sink.url}/hook" in page
    assert "Content-Type" in page and "application/json" in page
    assert "Status: <strong>200</strong>" in page and "ok" in page
    [access] = db.session.scalars(sa.select(LogAccess)).all()
    assert (access.user_id, access.delivery_id, access.test_run_id) == (admin.id, delivery_id, None)
    assert abs(datetime.now(timezone.utc) - access.accessed_at) < timedelta(minutes=1)

    md5_page = text(as_admin.htmx("POST", f"/logs/deliveries/{masked['email_md5']}/log"))
    assert "Not kept (MD5 only)" in md5_page and "secret.person" not in md5_page
    listing = text(as_admin.get("/logs/access"))
    assert listing.count('<tr id="log-access-') == 2
    assert f"Delivery #{delivery_id}" in listing and admin.email in listing


def test_the_log_shows_failed_attempts_with_their_error_and_masked_secrets(as_admin, make_list,
                                                                             make_rule):
    schedule("0")
    make_rule("ping_url", {"method": "GET", "url": "http://127.0.0.1:9/hook?c={{contact}}",
                           "headers": {"Authorization": "Bearer s3cr3t-token"}, "timeout": 2})
    added(make_list(), EMAIL)
    [delivery] = deliveries()
    execute([delivery.id])
    page = text(as_admin.htmx("POST", f"/logs/deliveries/{delivery.id}/log"))
    assert "Attempt 1 · failed" in page and "Error: " in page and "Status: <strong>—</strong>" in page
    assert "********" in page and "s3cr3t-token" not in page


def test_the_log_of_an_smtp_email_shows_the_message_and_the_smtp_reply(as_admin, make_list,
                                                                        make_rule, smtp_server):
    make_rule("smtp", {"connection": "custom", "host": "127.0.0.1", "port": smtp_server.port,
                       "security": "none", "from": "alerts@optintel.example",
                       "to": ["{{email}}", "dpo@example.com"], "subject": "Opt-out: {{contact}}",
                       "body": "{{contact}} opted out."})
    added(make_list(), EMAIL)
    [delivery] = deliveries()
    assert execute([delivery.id]) == 1 and len(smtp_server.messages) == 1
    page = text(as_admin.htmx("POST", f"/logs/deliveries/{delivery.id}/log"))
    assert "Attempt 1 · succeeded" in page and "Status: <strong>250</strong>" in page
    assert "SMTP reply" in page and "250 Message accepted for delivery" in page
    assert f"{EMAIL}, dpo@example.com" in page and f"Opt-out: {EMAIL}" in page
    assert f"{EMAIL} opted out." in page


@pytest.mark.parametrize("role", [Role.LIST_OWNER, Role.CAMPAIGN_MANAGER])
def test_only_global_admins_see_the_access_records(web, make_user, role):
    web.login(make_user(role))
    assert web.get("/logs/access").status_code == 403
    assert 'href="/logs/access"' not in text(web.get("/logs/"))


# ---- retry and retry all --------------------------------------------------------------------

def test_retrying_a_row_makes_it_pending_and_polling(as_admin, make_list, make_rule, redis_server):
    ping_rule(make_rule, "http://127.0.0.1:9/hook")
    added(make_list(), EMAIL)
    [delivery] = deliveries()
    set_status(delivery.id, DeliveryStatus.FAILED)
    queue = deliveries_queue(redis_server)
    queue.empty()
    row = text(as_admin.htmx("GET", f"/logs/deliveries/{delivery.id}"))
    assert ">Retry</button>" in row and POLLING not in row

    row = text(as_admin.htmx("POST", f"/logs/deliveries/{delivery.id}/retry"))
    assert row.lstrip().startswith(f'<tr id="delivery-{delivery.id}"')
    assert "Pending" in row and POLLING in row and ">Retry</button>" not in row
    assert "Retried by admin@example.com" in row
    assert deliveries()[0].status == DeliveryStatus.PENDING
    [job] = queue.get_jobs()
    assert job.func_name == "optintel.jobs.execute_deliveries" and job.args == ([delivery.id],)

    again = text(as_admin.htmx("POST", f"/logs/deliveries/{delivery.id}/retry"))
    assert "only failed or succeeded deliveries can be retried" in again and "Pending" in again
    assert queue.count == 1


def _hourly_totals():
    """{status: count} from the chart's hourly counts, to compare with the deliveries."""
    db.session.rollback()
    rows = db.session.execute(sa.select(DeliveryCount.status, sa.func.sum(DeliveryCount.count))
                              .group_by(DeliveryCount.status))
    return {DeliveryStatus(s): n for s, n in rows if n}


def _actual_totals():
    db.session.rollback()
    rows = db.session.execute(sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status))
    return {DeliveryStatus(s): n for s, n in rows}


@pytest.fixture
def settled(make_user, make_list, make_rule, monkeypatch):
    """Seven deliveries of an owner's list (3 failed, 2 succeeded, 1 retrying, 1 skipped) and two
    of another list (failed), their counts moved by the real executor."""
    schedule("0")
    owner = make_user(Role.LIST_OWNER)
    owned, other = make_list(owner=owner), make_list()
    rule = ping_rule(make_rule, "http://127.0.0.1:9/hook", "email_list", owned.id)
    ping_rule(make_rule, "http://127.0.0.1:9/hook", "email_list", other.id)
    added(owned, *(f"user{i}@example.com" for i in range(7)))
    added(other, "x@example.com", "y@example.com")
    ids = [d.id for d in deliveries()]
    assert execute(ids) == 9  # every one fails: nothing listens on port 9
    mine = [d.id for d in deliveries(rule_id=rule)]
    for delivery_id in mine[3:5]:
        set_status(delivery_id, DeliveryStatus.SUCCEEDED)
    set_status(mine[5], DeliveryStatus.RETRYING)
    set_status(mine[6], DeliveryStatus.SKIPPED)
    db.session.execute(sa.delete(DeliveryCount))
    db.session.commit()
    # Counts as the executor keeps them, rebuilt after the statuses were set by hand.
    counts.move([(d, None, d.status) for d in deliveries()])
    db.session.commit()
    assert _hourly_totals() == _actual_totals()
    monkeypatch.setattr(jobs, "_app", None)
    return owner, owned, mine


def test_retry_all_says_how_many_then_runs_as_a_job(web, settled, redis_server, monkeypatch, app):
    owner, owned, mine = settled
    web.login(owner)
    queue = deliveries_queue(redis_server)
    queue.empty()
    # The succeeded rows are retried when asked (include_succeeded=1): see also
    # test_retry_all_retries_the_failed_ones_unless_asked.
    dialog = text(web.htmx("GET", "/logs/retry-all?include_succeeded=1"))
    assert "<strong>5</strong> deliveries matching this filter will be retried" in dialog
    assert "3 failed and 2 succeeded" in dialog
    assert 'hx-post="/logs/retry-all?include_succeeded=1"' in dialog and queue.count == 0
    dialog = text(web.htmx("GET", "/logs/retry-all?status=succeeded&include_succeeded=1"))
    assert "<strong>2</strong> deliveries" in dialog
    assert 'hx-post="/logs/retry-all?status=succeeded&amp;include_succeeded=1"' in dialog

    response = web.htmx("POST", "/logs/retry-all?include_succeeded=1")
    assert "Retry started: 5 deliveries will be attempted again" in text(response)
    assert "logChanged" in json.loads(response.headers["HX-Trigger"])  # the results reload
    [job] = queue.get_jobs()
    assert job.func_name == "optintel.jobs.retry_matching"
    assert job.args == ({}, owner.id, max(mine[:5]), True)
    assert all(d.status != DeliveryStatus.PENDING for d in deliveries())  # not inline

    monkeypatch.setattr(retry_by_hand, "BATCH", 2)  # three batches
    jobs.use_app(app)
    queue.empty()
    assert job.func(*job.args) == 5
    after = {d.id: d.status for d in deliveries()}
    assert [after[i] for i in mine] == [DeliveryStatus.PENDING] * 5 + \
        [DeliveryStatus.RETRYING, DeliveryStatus.SKIPPED]
    assert [s for i, s in after.items() if i not in mine] == [DeliveryStatus.FAILED] * 2
    assert all(d.note == f"Retried by {owner.email}" for d in deliveries() if d.id in mine[:5])
    assert _hourly_totals() == _actual_totals()
    handed = sorted(i for j in queue.get_jobs() for i in j.args[0])
    assert [j.func_name for j in queue.get_jobs()] == ["optintel.jobs.execute_deliveries"] * 3
    assert handed == sorted(mine[:5])


def test_retry_all_retries_the_failed_ones_unless_asked(web, settled, redis_server, app):
    """With no filter, Retry all offers the failed rows, says how many, and names the succeeded
    ones as a choice of their own; the message after it says how many it started."""
    owner, owned, mine = settled
    web.login(owner)
    queue = deliveries_queue(redis_server)
    queue.empty()
    dialog = text(web.htmx("GET", "/logs/retry-all"))
    assert "<strong>3</strong> failed deliveries matching this filter will be retried" in dialog
    assert "Also retry the 2 succeeded deliveries" in dialog
    assert re.search(r'<input type="checkbox" name="include_succeeded" value="1"\s+hx-get', dialog)
    assert ">Retry 3 failed</button>" in dialog and "Retry 5" not in dialog

    response = web.htmx("POST", "/logs/retry-all")
    assert "Retry started: 3 deliveries will be attempted again" in text(response)
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["showMessage"] == {"text": "Retry started: 3 deliveries will be attempted again."}
    [job] = queue.get_jobs()
    assert job.args == ({}, owner.id, max(mine[:3]), False)
    jobs.use_app(app)
    queue.empty()
    assert job.func(*job.args) == 3
    after = {d.id: d.status for d in deliveries()}
    assert [after[i] for i in mine] == [DeliveryStatus.PENDING] * 3 + \
        [DeliveryStatus.SUCCEEDED] * 2 + [DeliveryStatus.RETRYING, DeliveryStatus.SKIPPED]
    assert _hourly_totals() == _actual_totals()

    queue.empty()
    dialog = text(web.htmx("GET", "/logs/retry-all?status=succeeded"))
    assert "No failed delivery matches this filter." in dialog
    assert "Also retry the 2 succeeded deliveries" in dialog and "Retry 2" not in dialog
    response = web.htmx("POST", "/logs/retry-all?status=succeeded")
    assert "HX-Trigger" not in response.headers and queue.count == 0


def test_retry_all_follows_the_filter_and_stops_at_the_rows_confirmed(settled, app, monkeypatch):
    owner, owned, mine = settled
    jobs.use_app(app)
    assert jobs.retry_matching({"status": "succeeded"}, owner.id, None) == 2
    assert {d.id for d in deliveries(status=DeliveryStatus.PENDING)} == set(mine[3:5])
    assert jobs.retry_matching({}, owner.id, mine[1]) == 2
    assert {d.id for d in deliveries(status=DeliveryStatus.PENDING)} == {*mine[:2], *mine[3:5]}


def test_retry_all_with_nothing_to_retry_or_a_bad_filter(as_admin, redis_server):
    queue = deliveries_queue(redis_server)
    dialog = text(as_admin.htmx("GET", "/logs/retry-all?status=failed"))
    assert "there is nothing to retry" in dialog and "hx-post" not in dialog
    response = as_admin.htmx("POST", "/logs/retry-all")
    assert "there is nothing to retry" in text(response) and "HX-Trigger" not in response.headers
    dialog = text(as_admin.htmx("POST", "/logs/retry-all?status=done"))
    assert "The filter has invalid values" in dialog and queue.count == 0


def test_the_retry_all_button_and_the_results_carry_the_filter(as_admin):
    page = text(as_admin.get("/logs/?status=failed&host=example.com&after=5"))
    assert 'hx-get="/logs/retry-all?status=failed&amp;host=example.com"' in page
    assert re.search(r'<section id="log-results" aria-live="polite" '
                     r'hx-get="/logs/\?status=failed&amp;host=example.com"\s+'
                     r'hx-trigger="logChanged from:body delay:1s"', page)


# ---- polling, paging, the chart -------------------------------------------------------------

@pytest.mark.parametrize("status", list(DeliveryStatus), ids=str)
def test_only_rows_in_flight_poll(as_admin, make_list, make_rule, status):
    ping_rule(make_rule, "http://127.0.0.1:9/hook")
    added(make_list(), EMAIL)
    [delivery] = deliveries()
    set_status(delivery.id, status)
    row = text(as_admin.htmx("GET", f"/logs/deliveries/{delivery.id}"))
    page = text(as_admin.get("/logs/"))
    polls = status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
    poll = f'hx-get="/logs/deliveries/{delivery.id}" {POLLING}'
    assert (poll in row) == polls and (poll in page) == polls
    assert 'hx-target="this" hx-swap="outerHTML"' in row
    assert (">Retry</button>" in row) == (status in (DeliveryStatus.FAILED,
                                                     DeliveryStatus.SUCCEEDED))


def test_pages_of_fifty_newest_first_without_count_or_offset(as_admin, make_list, make_rule):
    ping_rule(make_rule, "http://127.0.0.1:9/hook")
    added(make_list(), *(f"user{i}@example.com" for i in range(55)))
    first, sent = statements_of(lambda: text(as_admin.get("/logs/")))
    statements = [(sql.lower(), parameters) for sql, parameters in sent]
    assert statements and not [s for s, _ in statements if "count(" in s]
    # SQLite always writes an OFFSET; it must be 0.
    assert all(p[-1] == 0 for s, p in statements if "offset" in s)
    first_ids = row_ids(first)
    assert len(first_ids) == 50 and first_ids == sorted(first_ids, reverse=True)
    next_url = re.search(r'<a href="(/logs/\?after=\d+)">Next', first).group(1)
    second_ids = row_ids(text(as_admin.get(next_url)))
    assert len(second_ids) == 5 and max(second_ids) < min(first_ids)
    assert sorted(first_ids + second_ids) == [d.id for d in deliveries()]
    filtered = text(as_admin.get("/logs/?status=pending"))
    assert re.search(r'<a href="/logs/\?(status=pending&amp;after=\d+|after=\d+&amp;status=pending)">Next',
                     filtered)


def test_the_chart_stacks_the_filtered_rows(as_admin, make_list, make_rule, http_sink):
    schedule("0, 0")
    ok = ping_rule(make_rule, http_sink.url + "/ok")
    ping_rule(make_rule, http_sink.url + "/bad")
    http_sink.script("/bad", *[Reply(500, "no")] * 4)
    added(make_list(), "a@example.com", "b@example.com")
    ids = [d.id for d in deliveries()]
    assert execute(ids) == 4  # 2 succeeded, 2 retrying
    bad = [d.id for d in deliveries() if d.rule_id != ok]
    assert execute(bad[:1]) == 1  # its second and last attempt: failed

    page = text(as_admin.get("/logs/"))
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert re.findall(r'data-status="(\w+)" data-count="(\d+)"', svg) == \
        [("succeeded", "2"), ("failed", "1"), ("retrying", "1")]
    assert "Succeeded" in page and "Failed" in page and "Retrying" in page  # the legend
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert f"{today} UTC · Succeeded: 2, Failed: 1, Retrying: 1" in svg
    assert re.search(r"<text[^>]*>\d{4}-\d{2}-\d{2}</text>", svg)  # dates on the axis

    fragment = text(as_admin.htmx("GET", "/logs/?status=failed"))
    assert re.findall(r'data-status="(\w+)" data-count="(\d+)"', fragment) == [("failed", "1")]
    hourly = text(as_admin.htmx("GET", f"/logs/?date_from={today}&date_to={today}"))
    assert "Per hour (UTC)" in hourly
    assert re.findall(r'data-status="(\w+)"', hourly) == ["succeeded", "failed", "retrying"]
    assert re.search(r"<text[^>]*>\d{2}-\d{2} 00:00</text>", hourly)


def test_an_empty_chart_says_so(as_admin):
    page = text(as_admin.get("/logs/"))
    assert "No settled deliveries in this period." in page and "data-status" not in page


# ---- Test Runs ------------------------------------------------------------------------------

@pytest.fixture
def runs(make_user, make_list, make_rule, http_sink, redis_server):
    """A finished test run of an owner's list rule, a pending one of a Project rule."""
    owner = make_user(Role.LIST_OWNER, name="Olga Owner")
    owned = make_list(owner=owner)
    list_rule = db.session.get(TrackingRule, ping_rule(make_rule, http_sink.url + "/t",
                                                       "email_list", owned.id))
    project_rule = db.session.get(TrackingRule, ping_rule(make_rule, http_sink.url + "/p"))
    done = rule_test_runs.start(list_rule, {"contact": "typed.person@example.com"}, owner)
    rule_test_runs.execute(done.id)
    pending = rule_test_runs.start(project_rule, {}, make_user(Role.GLOBAL_ADMIN))
    return owner, owned, done.id, pending.id


@pytest.mark.parametrize("who", ["admin", "owner", "stranger"])
def test_test_runs_tab_shows_the_runs_the_user_may_see(web, make_user, runs, who):
    owner, owned, done, pending = runs
    user = {"admin": lambda: make_user(Role.GLOBAL_ADMIN), "owner": lambda: owner,
            "stranger": lambda: make_user(Role.LIST_OWNER)}[who]()
    web.login(user)
    visible = {"admin": [pending, done], "owner": [done], "stranger": []}[who]
    page = text(web.get("/logs/test-runs"))
    assert run_ids(page) == visible
    assert run_ids(text(web.htmx("GET", "/logs/test-runs"))) == visible
    for run_id in (done, pending):
        expected = 200 if run_id in visible else 404
        assert web.htmx("GET", f"/logs/test-runs/{run_id}").status_code == expected
        assert web.htmx("GET", f"/logs/test-runs/{run_id}/log").status_code == expected
        assert web.htmx("POST", f"/logs/test-runs/{run_id}/log").status_code == expected


def test_a_test_run_row_and_its_log(as_admin, admin, runs, http_sink):
    owner, owned, done, pending = runs
    page = text(as_admin.get("/logs/test-runs"))
    row = page[page.index(f'<tr id="test-run-{done}"'):]
    row = row[:row.index("</tr>")]
    assert "Succeeded" in row and "200" in row and "Olga Owner" in row and "Ping URL" in row
    assert f"Email Opt-Out List: {owned.name}" in row and "127.0.0.1" in row and POLLING not in row
    pending_row = text(as_admin.htmx("GET", f"/logs/test-runs/{pending}"))
    assert "Pending" in pending_row and f'hx-get="/logs/test-runs/{pending}" {POLLING}' in pending_row
    assert "typed.person@example.com" not in page

    confirmation = text(as_admin.htmx("GET", f"/logs/test-runs/{done}/log"))
    assert "I confirm to get access" in confirmation and "typed.person" not in confirmation
    log = text(as_admin.htmx("POST", f"/logs/test-runs/{done}/log"))
    assert "typed.person@example.com" in log and f"POST {http_sink.url}/t" in log
    assert "Status: <strong>200</strong>" in log
    [access] = db.session.scalars(sa.select(LogAccess)).all()
    assert (access.user_id, access.delivery_id, access.test_run_id) == (admin.id, None, done)
    assert f"Test Run #{done}" in text(as_admin.get("/logs/access"))


def test_test_runs_never_appear_in_all_events(as_admin, runs):
    page = text(as_admin.get("/logs/"))
    assert row_ids(page) == [] and "No deliveries yet" in page
    assert "typed.person" not in page and "test-run-" not in page
    assert deliveries() == []


# ---- Project Settings: log retention --------------------------------------------------------

SETTINGS_URL = "/settings/opt-intel/settings"
SETTINGS_FORM = {"default_phone_region": "US", "smtp_port": "587", "smtp_security": "starttls"}


def _retention():
    db.session.rollback()
    return ProjectSettings.get().log_retention_days


def test_log_retention_is_shown_and_saved(as_admin):
    page = text(as_admin.get(SETTINGS_URL))
    assert "Log retention (days)" in page and 'name="log_retention_days"' in page
    assert re.search(r'name="log_retention_days"[^>]*value="90"', page)
    response = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "log_retention_days": "30"})
    assert response.status_code == 302 and _retention() == 30
    assert re.search(r'name="log_retention_days"[^>]*value="30"', text(as_admin.get(SETTINGS_URL)))
    as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "log_retention_days": ""})
    assert _retention() == 30


RANGE = "Give a number of days from 1 to 3650."


@pytest.mark.parametrize("value, messages", [
    ("0", [RANGE]), ("3651", [RANGE]), ("-5", [RANGE]),
    ("soon", ["Not a valid integer value.", RANGE]), ("1.5", ["Not a valid integer value.", RANGE]),
])
def test_log_retention_is_between_1_and_3650_days(as_admin, field_errors, value, messages):
    response = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "log_retention_days": value})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True)) == {"log_retention_days": messages}
    assert _retention() == 90


@pytest.mark.parametrize("value", ["1", "3650"])
def test_log_retention_bounds_are_accepted(as_admin, value):
    response = as_admin.post_form(SETTINGS_URL, {**SETTINGS_FORM, "log_retention_days": value})
    assert response.status_code == 302 and _retention() == int(value)
