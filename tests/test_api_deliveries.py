"""/api/v1/deliveries and the deliveries of /api/v1/events/{id}: contract, keyset paging,
visibility by role, and retrying by hand. Deliveries come from the real dispatcher, run in this
process; attempts from the real executor, against a closed loopback port."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.executor import execute
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Delivery, DeliveryStatus, LogAccess, ProjectSettings, Role
from optintel.queue import DELIVERIES_QUEUE
from tests.conftest import ApiClient, free_port

SUMMARY = {"id", "rule_id", "action", "status", "attempts", "last_response_status",
           "next_attempt_at"}
ITEM = SUMMARY | {"event_id", "note", "created_at", "updated_at"}
ATTEMPT = {"number", "state", "started_at", "duration_ms", "succeeded", "request",
           "response_status", "response_headers", "response_body", "error"}
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def ping_rule(api, level="project", scope_id=None, **settings):
    """A Ping URL rule on contact_added, created through the API; its id."""
    action_settings = {"method": "POST", "url": f"http://127.0.0.1:{free_port()}/hook",
                       "content_type": "json", "body": '{"email": "{{email}}"}', "timeout": 2,
                       **settings}
    response = api.post("/tracking-rules", {"level": level, "scope_id": scope_id,
                                            "trigger": "contact_added", "action": "ping_url",
                                            "action_settings": action_settings})
    assert response.status_code == 201, response.json
    return response.json["id"]


def added(opt_out_list, *emails):
    """Add the contacts and dispatch their events here; the events' ids."""
    event_ids = add_contacts(opt_out_list, list(emails), Origin("api")).event_ids
    dispatch(event_ids)
    return event_ids


def one_attempt_only():
    """A schedule with no retries, so that one refused attempt fails the delivery."""
    ProjectSettings.get().retry_schedule = "0"
    db.session.commit()


def stored(delivery_id):
    db.session.rollback()
    return db.session.get(Delivery, delivery_id)


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


def parsed(timestamp):
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_an_event_lists_its_deliveries(api, make_list):
    opt_out_list = make_list()
    project_rule = ping_rule(api)
    list_rule = ping_rule(api, "email_list", opt_out_list.id)
    [event_id] = added(opt_out_list, "ann@example.com")
    deliveries = api.get(f"/events/{event_id}").json["deliveries"]
    assert [set(d) for d in deliveries] == [SUMMARY, SUMMARY]
    assert [d["id"] for d in deliveries] == sorted(d["id"] for d in deliveries)
    assert sorted((d["rule_id"], d["action"], d["status"], d["attempts"],
                   d["last_response_status"]) for d in deliveries) == \
        sorted((rule_id, "ping_url", "pending", 0, None) for rule_id in (project_rule, list_rule))
    assert abs(datetime.now(timezone.utc) - parsed(deliveries[0]["next_attempt_at"])) < \
        timedelta(seconds=60)


def test_a_delivery_with_its_attempts_and_no_secrets(api, make_list):
    one_attempt_only()
    rule_id = ping_rule(api, signing_secret=SIGNING_SECRET,
                        headers={"Authorization": "Bearer s3cr3t-token", "X-Plain": "visible"})
    [event_id] = added(make_list(), "ann@example.com")
    [item] = api.get(f"/deliveries?event_id={event_id}").json["items"]
    assert set(item) == ITEM
    assert (item["event_id"], item["rule_id"], item["status"], item["note"]) == \
        (event_id, rule_id, "pending", "")
    assert execute([item["id"]]) == 1

    response = api.get(f"/deliveries/{item['id']}")
    assert response.status_code == 200
    delivery = response.json
    assert set(delivery) == ITEM and delivery["status"] == "failed"
    assert delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert set(attempt) == ATTEMPT
    assert (attempt["number"], attempt["state"], attempt["succeeded"],
            attempt["response_status"]) == (1, "completed", False, None)
    assert attempt["error"] and attempt["duration_ms"] >= 0
    assert attempt["request"]["method"] == "POST"
    assert attempt["request"]["body"] == '{"email": "ann@example.com"}'
    assert attempt["request"]["headers"]["X-Plain"] == "visible"
    assert attempt["request"]["headers"]["Authorization"] == "********"
    assert attempt["request"]["headers"]["webhook-id"] == str(item["id"])
    text = response.get_data(as_text=True)
    assert "s3cr3t-token" not in text and "MfKQ9r8GKYqr" not in text


def test_pages_in_ascending_order_after_an_id(api, make_list):
    ping_rule(api)
    added(make_list(), *(f"user{i}@example.com" for i in range(5)))
    first = api.get("/deliveries?limit=2")
    assert first.json["next_after_id"] == ids(first)[-1]
    second = api.get(f"/deliveries?limit=2&after_id={first.json['next_after_id']}")
    third = api.get(f"/deliveries?limit=2&after_id={second.json['next_after_id']}")
    assert len(ids(third)) == 1 and third.json["next_after_id"] is None
    everything = ids(first) + ids(second) + ids(third)
    assert everything == sorted(set(everything)) == ids(api.get("/deliveries"))
    assert len(everything) == 5


def test_limit_defaults_to_100_and_allows_1000(api, make_list):
    ping_rule(api)
    added(make_list(), *(f"user{i}@example.com" for i in range(101)))
    response = api.get("/deliveries")
    assert len(ids(response)) == 100 and response.json["next_after_id"] == ids(response)[-1]
    assert len(ids(api.get("/deliveries?limit=1000"))) == 101


def test_filters_by_event_rule_and_status(api, make_list):
    first_rule, second_rule = ping_rule(api), ping_rule(api)
    first_event, second_event = added(make_list(), "a@example.com", "b@example.com")
    by_event = api.get(f"/deliveries?event_id={first_event}").json["items"]
    assert {(d["event_id"], d["rule_id"]) for d in by_event} == \
        {(first_event, first_rule), (first_event, second_rule)}
    by_rule = api.get(f"/deliveries?rule_id={second_rule}").json["items"]
    assert {(d["event_id"], d["rule_id"]) for d in by_rule} == \
        {(first_event, second_rule), (second_event, second_rule)}
    both = api.get(f"/deliveries?event_id={second_event}&rule_id={first_rule}").json["items"]
    assert [(d["event_id"], d["rule_id"]) for d in both] == [(second_event, first_rule)]
    stored(both[0]["id"]).status = DeliveryStatus.FAILED
    db.session.commit()
    assert ids(api.get("/deliveries?status=failed")) == [both[0]["id"]]
    assert len(ids(api.get("/deliveries?status=pending"))) == 3
    assert ids(api.get("/deliveries?status=skipped")) == []


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"),
    ("after_id=x", "after_id"), ("status=done", "status"), ("event_id=one", "event_id"),
    ("rule_id=one", "rule_id"),
])
def test_bad_query_is_422(api, query, field):
    response = api.get(f"/deliveries?{query}")
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("method, path", [
    ("GET", "/deliveries"), ("GET", "/deliveries/1"), ("POST", "/deliveries/1/retry")])
def test_no_key_is_401(app, method, path):
    response = ApiClient(app.test_client(), None).request(method, path)
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_unknown_delivery_is_404(api):
    assert api.get("/deliveries/999").status_code == 404
    response = api.post("/deliveries/999/retry")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


@pytest.fixture
def world(api, make_user, make_list, make_campaign):
    """A list owner's list and a manager's campaign's list, a rule on each of them, a Project
    rule and a rule on the campaign, and one event on each list."""
    owner, manager = make_user(Role.LIST_OWNER), make_user(Role.CAMPAIGN_MANAGER)
    owned, scrubbed = make_list(owner=owner), make_list()
    campaign = make_campaign(manager=manager, lists=[scrubbed])
    rules = {"project": ping_rule(api), "owned_list": ping_rule(api, "email_list", owned.id),
             "scrubbed_list": ping_rule(api, "email_list", scrubbed.id),
             "campaign": ping_rule(api, "email_campaign", campaign.id)}
    events = {"owned": added(owned, "a@example.com")[0],
              "scrubbed": added(scrubbed, "a@example.com")[0]}
    deliveries = {(d.event_id, d.rule_id): d.id for d in db.session.scalars(sa.select(Delivery))}
    assert len(deliveries) == 5  # the Project rule fires on both lists
    return {"owner": owner, "manager": manager}, rules, events, deliveries


@pytest.mark.parametrize("who, visible_rules, visible_events", [
    ("owner", ["owned_list"], ["owned"]),
    ("manager", ["campaign"], ["scrubbed"]),
])
def test_each_role_sees_the_deliveries_of_the_rules_it_manages(
        api_as, world, who, visible_rules, visible_events):
    users, rules, events, deliveries = world
    client = api_as(users[who])
    visible = sorted(d for (_, rule_id), d in deliveries.items()
                     if rule_id in [rules[name] for name in visible_rules])
    assert ids(client.get("/deliveries")) == visible
    for (event_id, rule_id), delivery_id in deliveries.items():
        assert client.get(f"/deliveries/{delivery_id}").status_code == \
            (200 if delivery_id in visible else 404)
        assert ids(client.get(f"/deliveries?event_id={event_id}&rule_id={rule_id}")) == \
            ([delivery_id] if delivery_id in visible else [])
        if delivery_id not in visible:
            assert client.post(f"/deliveries/{delivery_id}/retry").status_code == 404
    for name, event_id in events.items():
        response = client.get(f"/events/{event_id}")
        if name in visible_events:
            assert [d["id"] for d in response.json["deliveries"]] == \
                [d for (e, _), d in sorted(deliveries.items()) if e == event_id and d in visible]
        else:
            assert response.status_code == 404


def test_a_global_admin_sees_every_delivery(api, world):
    _, _, events, deliveries = world
    assert ids(api.get("/deliveries")) == sorted(deliveries.values())
    for event_id in events.values():
        assert sorted(d["id"] for d in api.get(f"/events/{event_id}").json["deliveries"]) == \
            sorted(d for (e, _), d in deliveries.items() if e == event_id)


def test_a_deleted_rules_deliveries_stay_in_the_scopes_history(api, api_as, make_user, make_list):
    owner = make_user(Role.LIST_OWNER)
    owned = make_list(owner=owner)
    rule_id = ping_rule(api, "email_list", owned.id)
    [event_id] = added(owned, "a@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    assert api.delete(f"/tracking-rules/{rule_id}").status_code == 204
    assert api.get(f"/deliveries/{delivery_id}").json["rule_id"] is None
    # Still the history of the owner's list: visible to them, and to nobody else but admins.
    [shown] = api_as(owner).get(f"/events/{event_id}").json["deliveries"]
    assert shown["id"] == delivery_id and shown["rule_id"] is None
    stranger = make_user(Role.LIST_OWNER)
    assert api_as(stranger).get(f"/deliveries/{delivery_id}").status_code == 404


def deliveries_queue(redis_server):
    return Queue(DELIVERIES_QUEUE, connection=Redis.from_url(redis_server.url))


def test_retrying_a_failed_delivery_hands_it_to_the_workers(api, api_as, make_user, make_list,
                                                             redis_server):
    one_attempt_only()
    ping_rule(api)
    added(make_list(), "ann@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    assert execute([delivery_id]) == 1 and stored(delivery_id).status == DeliveryStatus.FAILED
    queue = deliveries_queue(redis_server)
    queue.empty()

    user = make_user(Role.GLOBAL_ADMIN, email="ops@example.com")
    response = api_as(user).post(f"/deliveries/{delivery_id}/retry")
    assert response.status_code == 202, response.json
    assert (response.json["id"], response.json["status"], response.json["note"]) == \
        (delivery_id, "pending", "Retried by ops@example.com")
    assert len(response.json["attempts"]) == 1
    delivery = stored(delivery_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.lease_until is None
    assert abs(datetime.now(timezone.utc) - delivery.next_attempt_at) < timedelta(seconds=60)
    assert delivery.enqueued_at is not None
    [job] = queue.get_jobs()
    assert job.func_name == "optintel.jobs.execute_deliveries" and job.args == ([delivery_id],)
    # The job's batch is due at once: attempted again, and failed again (no retries left).
    assert execute(*job.args) == 1
    assert [a["number"] for a in api.get(f"/deliveries/{delivery_id}").json["attempts"]] == [1, 2]
    assert stored(delivery_id).status == DeliveryStatus.FAILED


@pytest.mark.parametrize("status, answer", [
    (DeliveryStatus.SUCCEEDED, 202), (DeliveryStatus.FAILED, 202), (DeliveryStatus.PENDING, 409),
    (DeliveryStatus.RETRYING, 409), (DeliveryStatus.SKIPPED, 409)])
def test_only_failed_or_succeeded_deliveries_are_retried(api, make_list, redis_server, status,
                                                         answer):
    ping_rule(api)
    added(make_list(), "ann@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    delivery = stored(delivery_id)
    delivery.status, delivery.note = status, "as it was"
    db.session.commit()
    queue = deliveries_queue(redis_server)
    queue.empty()
    response = api.post(f"/deliveries/{delivery_id}/retry")
    assert response.status_code == answer, response.json
    if answer == 409:
        assert response.json["error"]["code"] == "conflict"
        assert status.value in response.json["error"]["message"]
        assert (stored(delivery_id).status, stored(delivery_id).note) == (status, "as it was")
        assert queue.count == 0
    else:
        assert stored(delivery_id).status == DeliveryStatus.PENDING and queue.count == 1


def test_a_skipped_delivery_is_not_retried(api, make_list):
    rule_id = ping_rule(api)
    added(make_list(), "ann@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    api.patch(f"/tracking-rules/{rule_id}", {"status": "disabled"})
    assert execute([delivery_id]) == 0
    delivery = api.get(f"/deliveries/{delivery_id}").json
    assert (delivery["status"], delivery["note"]) == ("skipped",
                                                      "The rule was disabled before it ran.")
    assert api.post(f"/deliveries/{delivery_id}/retry").status_code == 409


def test_with_redis_down_a_retry_commits_and_waits_for_the_reconciler(app_without_redis, api,
                                                                      make_list):
    ping_rule(api)
    added(make_list(), "ann@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    stored(delivery_id).status = DeliveryStatus.FAILED
    db.session.commit()
    response = api.post(f"/deliveries/{delivery_id}/retry")
    assert response.status_code == 202 and response.json["status"] == "pending"
    delivery = stored(delivery_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.enqueued_at is None


def test_openapi_documents_the_deliveries(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    paths = document["paths"]
    assert {"get"} <= set(paths["/api/v1/deliveries"])
    assert {"get"} <= set(paths["/api/v1/deliveries/{delivery_id}"])
    retry = paths["/api/v1/deliveries/{delivery_id}/retry"]["post"]["responses"]
    assert {"202", "401", "404", "409"} <= set(retry)
    schemas = document["components"]["schemas"]
    assert ITEM <= set(schemas["Delivery"]["properties"])
    assert schemas["DeliveryDetail"]["properties"]["attempts"]["type"] == "array"
    assert ATTEMPT <= set(schemas["Attempt"]["properties"])
    assert "deliveries" in schemas["EventWithDeliveries"]["properties"]
    event = paths["/api/v1/events/{event_id}"]["get"]["responses"]["200"]
    assert event["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/EventWithDeliveries"}


def test_reading_a_deliverys_attempts_is_recorded_as_a_log_access(api, make_list):
    ping_rule(api)
    added(make_list(), "ann@example.com")
    [delivery_id] = ids(api.get("/deliveries"))
    assert db.session.query(LogAccess).count() == 0
    assert api.get(f"/deliveries/{delivery_id}").status_code == 200
    [access] = db.session.query(LogAccess).all()
    assert access.delivery_id == delivery_id and access.user is not None
