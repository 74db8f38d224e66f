"""GET /api/v1/tracking-log: the Tracking Log's filters, keyset pages newest first, masked
contacts, visibility by role, and Test Runs kept out. Deliveries come from the real dispatcher
and executor, run in this process against a real HTTP sink and a closed loopback port."""
import hashlib
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.deliveries.executor import execute
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import (Channel, Delivery, DeliveryStatus, Event, ProjectSettings, Role,
                             Storage, TestRun, TrackingRule)
from optintel import rule_test_runs
from tests.conftest import ApiClient, HttpSink, free_port

ITEM = {"id", "created_at", "contact", "contact_md5", "host", "level", "scope_id", "trigger",
        "action", "rule_id", "event_id", "attempts", "status", "last_response_status",
        "next_attempt_at"}
FILTERS = {"date_from", "date_to", "level", "scope_id", "trigger", "action", "status", "host",
           "list_id", "mailer_id", "campaign_id", "rule_id", "contact"}
ANN, BOB, CAROL, PHONE = "ann.lee@example.com", "bob@example.com", "carol@example.com", \
    "+14155552671"


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def ping(url, **fields):
    return {"method": "POST", "url": url, "content_type": "json", "body": '{"c": "{{contact}}"}',
            "timeout": 2, **fields}


def log_ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


def every_delivery():
    db.session.rollback()
    return db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()


def dated(delivery_id, moment):
    db.session.execute(sa.update(Delivery.__table__).where(Delivery.__table__.c.id == delivery_id)
                       .values(created_at=moment.replace(tzinfo=None)))
    db.session.commit()


@pytest.fixture(scope="module")
def sink():
    """One HTTP sink for the module: closing one takes half a second."""
    server = HttpSink()
    yield server
    server.close()


@pytest.fixture
def log(api, sink, make_user, make_list, make_mailer, make_campaign, make_rule):
    """Seven deliveries of four rules (two actions, two hosts, both triggers, four levels) on
    events of four lists, one of them MD5-only: succeeded, failed and pending, on three days."""
    ProjectSettings.get().retry_schedule = "0"  # one refused attempt fails a delivery
    db.session.commit()
    owner, manager = make_user(Role.LIST_OWNER), make_user(Role.CAMPAIGN_MANAGER)
    mailer = make_mailer()
    scrubbed, owned = make_list(), make_list(owner=owner)
    phones, hashed = make_list(channel=Channel.PHONE), make_list(storage=Storage.MD5)
    campaign = make_campaign(manager=manager, mailers=[mailer], lists=[scrubbed])
    closed = f"http://localhost:{free_port()}/hook"
    rules = {
        "project": make_rule("ping_url", ping(sink.url + "/ok")),
        "owned": make_rule("ping_url", ping(closed), "email_list", owned.id),
        "campaign": make_rule("slack", {"webhook_url": sink.url + "/slack",
                                        "text": "{{email}}"}, "email_campaign", campaign.id,
                              trigger="contact_deleted"),
        "phones": make_rule("ping_url", ping(closed), "phone_list", phones.id),
    }
    attributed = Origin("api", mailer.id, campaign.id)
    event_ids = [*add_contacts(scrubbed, [" Ann.Lee@Example.com"], attributed).event_ids,
                 *remove_contacts(scrubbed, [ANN], attributed).event_ids,
                 *add_contacts(owned, [BOB], Origin("api")).event_ids,
                 *add_contacts(phones, ["+1 (415) 555-2671"], Origin("api")).event_ids,
                 *add_contacts(hashed, [CAROL], Origin("api")).event_ids]
    delivery_ids = dispatch(event_ids)
    assert len(delivery_ids) == 7
    by_rule = {name: sorted(d.id for d in every_delivery() if d.rule_id == rule_id)
               for name, rule_id in rules.items()}
    # The Project rule's delivery for the phone number stays pending.
    phone_event = db.session.scalar(sa.select(Event.id).where(Event.list_id == phones.id))
    pending = db.session.scalar(sa.select(Delivery.id).where(
        Delivery.event_id == phone_event, Delivery.rule_id == rules["project"]))
    assert execute([i for i in delivery_ids if i != pending]) == 6
    dated(by_rule["owned"][0], datetime(2024, 1, 10, 12, tzinfo=timezone.utc))
    bob_event = db.session.scalar(sa.select(Event.id).where(Event.list_id == owned.id))
    bobs_project = db.session.scalar(sa.select(Delivery.id).where(
        Delivery.event_id == bob_event, Delivery.rule_id == rules["project"]))
    dated(bobs_project, datetime(2024, 1, 15, 23, 59, 59, tzinfo=timezone.utc))
    statuses = sorted(d.status.value for d in every_delivery())
    assert statuses == ["failed", "failed", "pending", "succeeded", "succeeded", "succeeded",
                        "succeeded"]
    return dict(owner=owner, manager=manager, mailer=mailer, campaign=campaign, rules=rules,
                lists=dict(scrubbed=scrubbed, owned=owned, phones=phones, hashed=hashed),
                by_rule=by_rule)


# Each filter: its query arguments and, independently, which deliveries it should keep.
CASES = {
    "level": lambda w: ({"level": "email_list"}, lambda d: d.level.value == "email_list"),
    "scope_id": lambda w: ({"level": "phone_list", "scope_id": w["lists"]["phones"].id},
                           lambda d: d.rule_id == w["rules"]["phones"]),
    "trigger": lambda w: ({"trigger": "contact_deleted"},
                          lambda d: d.trigger.value == "contact_deleted"),
    "action": lambda w: ({"action": "slack"}, lambda d: d.rule_id == w["rules"]["campaign"]),
    "status": lambda w: ({"status": "failed"}, lambda d: d.status == DeliveryStatus.FAILED),
    "pending": lambda w: ({"status": "pending"}, lambda d: d.status == DeliveryStatus.PENDING),
    "host": lambda w: ({"host": "LOCALHOST"}, lambda d: d.host == "localhost"),
    "list_id": lambda w: ({"list_id": w["lists"]["owned"].id},
                          lambda d: d.list_id == w["lists"]["owned"].id),
    "mailer_id": lambda w: ({"mailer_id": w["mailer"].id},
                            lambda d: d.mailer_id == w["mailer"].id),
    "campaign_id": lambda w: ({"campaign_id": w["campaign"].id},
                              lambda d: d.campaign_id == w["campaign"].id),
    "rule_id": lambda w: ({"rule_id": w["rules"]["project"]},
                          lambda d: d.rule_id == w["rules"]["project"]),
    "contact as typed": lambda w: ({"contact": "  ANN.Lee@example.COM "},
                                   lambda d: d.contact_md5 == md5(ANN)),
    "contact md5": lambda w: ({"contact": md5(BOB).upper()}, lambda d: d.contact_md5 == md5(BOB)),
    "phone as typed": lambda w: ({"contact": "+1 415-555-2671"},
                                lambda d: d.contact_md5 == md5(PHONE)),
    "md5-only contact": lambda w: ({"contact": CAROL}, lambda d: d.contact_md5 == md5(CAROL)),
    "date_from": lambda w: ({"date_from": "2024-01-16"},
                            lambda d: d.created_at.year > 2024),
    "date_to takes the whole day": lambda w: (
        {"date_to": "2024-01-15"}, lambda d: d.created_at.year == 2024),
    "date range": lambda w: ({"date_from": "2024-01-11", "date_to": "2024-01-15"},
                             lambda d: d.created_at.day == 15 and d.created_at.year == 2024),
    "two filters": lambda w: ({"status": "succeeded", "list_id": w["lists"]["scrubbed"].id},
                              lambda d: d.status == DeliveryStatus.SUCCEEDED and
                              d.list_id == w["lists"]["scrubbed"].id),
}


@pytest.mark.parametrize("case", CASES)
def test_each_filter_keeps_the_matching_deliveries(api, log, case):
    args, keeps = CASES[case](log)
    rows = every_delivery()
    expected = sorted((d.id for d in rows if keeps(d)), reverse=True)
    assert expected and len(expected) < len(rows), "the case must tell rows apart"
    assert log_ids(api.get("/tracking-log?" + urlencode(args))) == expected


def test_items_carry_the_log_columns_with_contacts_masked(api, log):
    response = api.get("/tracking-log")
    items = {item["id"]: item for item in response.json["items"]}
    assert all(set(item) == ITEM for item in items.values())
    for delivery in every_delivery():
        item = items[delivery.id]
        assert (item["event_id"], item["rule_id"], item["level"], item["scope_id"],
                item["trigger"], item["action"], item["host"], item["status"],
                item["attempts"], item["last_response_status"], item["contact_md5"]) == \
            (delivery.event_id, delivery.rule_id, delivery.level.value, delivery.scope_id,
             delivery.trigger.value, delivery.action.value, delivery.host, delivery.status.value,
             delivery.attempts, delivery.last_response_status, delivery.contact_md5)
        assert datetime.fromisoformat(item["created_at"]) == delivery.created_at
        assert (item["next_attempt_at"] is None) == (delivery.next_attempt_at is None)
    shown = {item["contact_md5"]: item["contact"] for item in items.values()}
    assert shown == {md5(ANN): "a***@example.com", md5(BOB): "b***@example.com",
                     md5(PHONE): "+1******2671", md5(CAROL): md5(CAROL)}
    text = response.get_data(as_text=True)
    for plain in (ANN, "ann.lee", BOB, PHONE, "5552671", CAROL):
        assert plain not in text
    owned = log["by_rule"]["owned"][0]
    assert (items[owned]["status"], items[owned]["attempts"]) == ("failed", 1)
    assert items[log["by_rule"]["project"][0]]["last_response_status"] == 200


def test_pages_newest_first_after_an_id(api, log):
    everything = log_ids(api.get("/tracking-log"))
    assert everything == sorted(everything, reverse=True) and len(everything) == 7
    first = api.get("/tracking-log?limit=3")
    assert log_ids(first) == everything[:3] and first.json["next_after_id"] == everything[2]
    second = api.get(f"/tracking-log?limit=3&after_id={first.json['next_after_id']}")
    assert log_ids(second) == everything[3:6]
    third = api.get(f"/tracking-log?limit=3&after_id={second.json['next_after_id']}")
    assert log_ids(third) == everything[6:] and third.json["next_after_id"] is None
    assert api.get("/tracking-log?limit=7").json["next_after_id"] is None
    # A filter holds across pages.
    failed = api.get("/tracking-log?status=failed&limit=1")
    older = api.get(f"/tracking-log?status=failed&limit=1&after_id={failed.json['next_after_id']}")
    assert log_ids(failed) + log_ids(older) == \
        sorted((d.id for d in every_delivery() if d.status == DeliveryStatus.FAILED), reverse=True)
    assert older.json["next_after_id"] is None


def test_limit_defaults_to_100_and_allows_1000(api, make_list, make_rule):
    make_rule("ping_url", ping(f"http://127.0.0.1:{free_port()}/hook"))
    dispatch(add_contacts(make_list(), [f"user{i}@example.com" for i in range(101)],
                          Origin("api")).event_ids)
    response = api.get("/tracking-log")
    assert len(log_ids(response)) == 100 and response.json["next_after_id"] == log_ids(response)[-1]
    assert len(log_ids(api.get("/tracking-log?limit=1000"))) == 101


@pytest.mark.parametrize("query, field", [
    ("date_from=2024-13-01", "date_from"), ("date_to=yesterday", "date_to"),
    ("level=galaxy", "level"), ("trigger=contact_moved", "trigger"), ("action=fax", "action"),
    ("status=done", "status"), ("scope_id=one", "scope_id"), ("list_id=-1", "list_id"),
    ("mailer_id=x", "mailer_id"), ("campaign_id=1.5", "campaign_id"), ("rule_id=r", "rule_id"),
    ("contact=not+a+contact", "contact"), ("after_id=x", "after_id"), ("limit=0", "limit"),
    ("limit=1001", "limit"),
])
def test_an_invalid_filter_is_422_by_field(api, query, field):
    response = api.get(f"/tracking-log?{query}")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert list(response.json["error"]["fields"]) == [field]


def test_unknown_or_empty_arguments_filter_nothing(api, log):
    assert log_ids(api.get("/tracking-log?status=&list_id=&colour=blue")) == \
        sorted((d.id for d in every_delivery()), reverse=True)


@pytest.mark.parametrize("who, rules", [("owner", ["owned"]), ("manager", ["campaign"]),
                                        ("stranger", []), ("admin", None)])
def test_each_role_sees_the_rows_of_the_rules_it_manages(api, api_as, make_user, log, who,
                                                         rules):
    users = {"owner": log["owner"], "manager": log["manager"],
             "stranger": make_user(Role.LIST_OWNER), "admin": make_user(Role.GLOBAL_ADMIN)}
    client = api_as(users[who])
    everything = every_delivery()
    visible = sorted((d.id for d in everything
                      if rules is None or d.rule_id in [log["rules"][r] for r in rules]),
                     reverse=True)
    assert log_ids(client.get("/tracking-log")) == visible
    # A filter narrows what one sees, never widens it.
    for d in everything:
        assert log_ids(client.get(f"/tracking-log?rule_id={d.rule_id}")) == \
            [i for i in visible if i in [e.id for e in everything if e.rule_id == d.rule_id]]
    assert log_ids(client.get(f"/tracking-log?list_id={log['lists']['owned'].id}")) == \
        [i for i in visible if i in [d.id for d in everything
                                      if d.list_id == log["lists"]["owned"].id]]


def test_a_deleted_rules_rows_stay_in_its_scopes_log(api, api_as, log):
    owned = log["by_rule"]["owned"]
    assert api.delete(f"/tracking-rules/{log['rules']['owned']}").status_code == 204
    [item] = api_as(log["owner"]).get("/tracking-log").json["items"]
    assert (item["id"], item["rule_id"], item["level"]) == (owned[0], None, "email_list")


def test_test_runs_are_not_in_the_log(api, admin, sink, make_rule, redis_server):
    rule_id = make_rule("ping_url", ping(sink.url + "/test"))
    run = rule_test_runs.start(db.session.get(TrackingRule, rule_id), {"contact": ANN}, admin)
    assert rule_test_runs.execute(run.id).status == DeliveryStatus.SUCCEEDED
    assert len(sink.received("/test")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TestRun)) == 1
    assert log_ids(api.get("/tracking-log")) == []
    assert log_ids(api.get(f"/tracking-log?rule_id={rule_id}")) == []
    assert log_ids(api.get(f"/tracking-log?contact={ANN}")) == []


def test_no_key_is_401(app):
    response = ApiClient(app.test_client(), None).get("/tracking-log")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_openapi_documents_the_tracking_log(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    get = document["paths"]["/api/v1/tracking-log"]["get"]
    assert {"200", "401", "422"} <= set(get["responses"])
    parameters = {p["name"]: p["schema"] for p in get["parameters"]}
    assert set(parameters) == FILTERS | {"after_id", "limit"}
    assert parameters["status"]["enum"] == [s.value for s in DeliveryStatus]
    assert parameters["list_id"]["type"] == "integer"
    assert parameters["date_from"]["format"] == "date"
    schemas = document["components"]["schemas"]
    assert set(schemas["TrackingLogItem"]["properties"]) == ITEM
    assert schemas["TrackingLogPage"]["properties"]["items"]["type"] == "array"
