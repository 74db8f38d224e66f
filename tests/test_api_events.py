"""/api/v1/events: every contact added or deleted, oldest first, by keyset, as each caller may
see them."""
import hashlib
from datetime import datetime, timezone

import pytest

from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.models import Channel, ListKind, Role


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


def emails(n, start=0):
    return [f"user{i}@example.com" for i in range(start, start + n)]


def test_an_event_as_recorded(api, make_list, make_mailer, make_campaign):
    opt_out_list, mailer = make_list(), make_mailer()
    campaign = make_campaign(lists=[opt_out_list])
    add_contacts(opt_out_list, ["Ann@Example.com"], Origin("api", mailer.id, campaign.id))
    item = api.get("/events").json["items"][0]
    assert {key: item[key] for key in ("trigger", "channel", "list_id", "contact", "contact_md5",
                                       "source", "mailer_id", "campaign_id")} == {
        "trigger": "contact_added", "channel": "email", "list_id": opt_out_list.id,
        "contact": "ann@example.com", "contact_md5": hashlib.md5(b"ann@example.com").hexdigest(),
        "source": "api", "mailer_id": mailer.id, "campaign_id": campaign.id}
    assert item["occurred_at"].endswith(("Z", "+00:00"))
    occurred_at = datetime.fromisoformat(item["occurred_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - occurred_at).total_seconds() < 60
    assert api.get(f"/events/{item['id']}").json == {**item, "deliveries": []}


def test_pages_in_ascending_order_after_an_id(api, make_list):
    add_contacts(make_list(), emails(5), Origin("api"))
    first = api.get("/events?limit=2")
    assert len(ids(first)) == 2 and ids(first) == sorted(ids(first))
    assert first.json["next_after_id"] == ids(first)[-1]
    second = api.get(f"/events?limit=2&after_id={first.json['next_after_id']}")
    third = api.get(f"/events?limit=2&after_id={second.json['next_after_id']}")
    assert len(ids(third)) == 1 and third.json["next_after_id"] is None
    assert ids(first) + ids(second) + ids(third) == ids(api.get("/events"))
    assert len(set(ids(first) + ids(second) + ids(third))) == 5


def test_a_full_last_page_says_there_is_no_next(api, make_list):
    add_contacts(make_list(), emails(4), Origin("api"))
    first = api.get("/events?limit=2")
    second = api.get(f"/events?limit=2&after_id={first.json['next_after_id']}")
    assert len(ids(second)) == 2 and second.json["next_after_id"] is None


def test_limit_defaults_to_100(api, make_list):
    add_contacts(make_list(), emails(101), Origin("api"))
    response = api.get("/events")
    assert len(ids(response)) == 100
    rest = api.get(f"/events?after_id={response.json['next_after_id']}")
    assert ids(rest) == [ids(response)[-1] + 1]


def test_filter_by_list_and_trigger(api, make_list):
    first, second = make_list(), make_list()
    add_contacts(first, emails(2), Origin("api"))
    add_contacts(second, emails(1), Origin("api"))
    remove_contacts(first, emails(1), Origin("api"))
    by_list = api.get(f"/events?list_id={first.id}").json["items"]
    assert [(e["list_id"], e["trigger"]) for e in by_list] == \
        [(first.id, "contact_added")] * 2 + [(first.id, "contact_deleted")]
    deleted = api.get(f"/events?list_id={first.id}&trigger=contact_deleted").json["items"]
    assert [e["contact"] for e in deleted] == ["user0@example.com"]
    assert api.get(f"/events?list_id={second.id}&trigger=contact_deleted").json["items"] == []


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"),
    ("after_id=x", "after_id"), ("trigger=contact_changed", "trigger"), ("list_id=one", "list_id"),
])
def test_bad_query_is_422(api, query, field):
    response = api.get(f"/events?{query}")
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_limit_1000_is_allowed(api):
    assert api.get("/events?limit=1000").json == {"items": [], "next_after_id": None}


def test_unknown_event_is_404(api):
    assert api.get("/events/999").status_code == 404


@pytest.fixture
def world(make_user, make_list, make_campaign):
    """Lists and campaigns of two owners and two managers, one event on each list."""
    owner, other_owner = make_user(Role.LIST_OWNER), make_user(Role.LIST_OWNER)
    manager, other_manager = make_user(Role.CAMPAIGN_MANAGER), make_user(Role.CAMPAIGN_MANAGER)
    lists = {
        "owned": make_list(owner=owner),
        "owned_phone": make_list(owner=owner, channel=Channel.PHONE),
        "in_own_group": make_list(owner=other_owner),
        "scrubbed": make_list(owner=other_owner),
        "in_scrubbed_group": make_list(owner=other_owner),
        "elsewhere": make_list(owner=other_owner),
    }
    make_list(owner=owner, kind=ListKind.GROUPED, members=[lists["in_own_group"]])
    group = make_list(kind=ListKind.GROUPED, members=[lists["in_scrubbed_group"]])
    own_campaign = make_campaign(manager=manager, lists=[lists["scrubbed"], group])
    make_campaign(manager=other_manager, lists=[lists["elsewhere"]])
    event_ids = {}
    for name, opt_out_list in lists.items():
        value = "+16502530000" if opt_out_list.channel == Channel.PHONE else "a@example.com"
        event_ids[name] = add_contacts(opt_out_list, [value], Origin("api")).event_ids[0]
    # Through the manager's campaign into a list that the campaign is not scrubbed against.
    through = add_contacts(lists["elsewhere"], ["b@example.com"],
                           Origin("api", campaign_id=own_campaign.id))
    event_ids["through_campaign"] = through.event_ids[0]
    return {"owner": owner, "manager": manager, "other_owner": other_owner}, event_ids


@pytest.mark.parametrize("who, visible", [
    ("owner", ["owned", "owned_phone", "in_own_group"]),
    ("manager", ["scrubbed", "in_scrubbed_group", "through_campaign"]),
    ("other_owner", ["in_own_group", "scrubbed", "in_scrubbed_group", "elsewhere",
                     "through_campaign"]),
])
def test_each_role_sees_the_events_of_what_it_may_open(api_as, world, who, visible):
    users, event_ids = world
    client = api_as(users[who])
    assert ids(client.get("/events")) == sorted(event_ids[name] for name in visible)
    for name, event_id in event_ids.items():
        assert client.get(f"/events/{event_id}").status_code == (200 if name in visible else 404)


def test_admin_sees_every_event(api, world):
    _, event_ids = world
    assert ids(api.get("/events")) == sorted(event_ids.values())


def test_filters_do_not_widen_what_is_visible(api_as, world):
    users, event_ids = world
    client = api_as(users["owner"])
    elsewhere = api_as(users["other_owner"]).get(f"/events/{event_ids['elsewhere']}").json
    assert ids(client.get(f"/events?list_id={elsewhere['list_id']}")) == []
    assert ids(client.get("/events?trigger=contact_added&limit=1000")) == sorted(
        event_ids[name] for name in ("owned", "owned_phone", "in_own_group"))
