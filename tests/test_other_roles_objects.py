"""Someone else's rule, delivery, campaign or list, named in a request by a Campaign Manager or
a List Owner, answers as missing (a Project rule through its own address as forbidden: the
matrix of test_rules_pages.py), and the refusal changes nothing: the Tracking tab's actions on a
rule, the Tracking Log's retry and Retry all, the API's SMS campaigns and list downloads."""
import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from optintel import jobs, rule_test_runs, secrets
from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.models import (Campaign, Channel, Delivery, DeliveryStatus, Event, ListDownload,
                             OptOutList, ProjectSettings, Role, RuleStatus, TestRun, TrackingRule)
from optintel.models.columns import utcnow
from optintel.normalize import md5_of
from optintel.queue import DELIVERIES_QUEUE

HOOK = "http://127.0.0.1:9/hook"  # nothing listens there: every attempt fails at once


def ping_rule(make_rule, level, scope_id):
    """A Ping URL rule created through the API by a Global Admin; its id."""
    return make_rule("ping_url", {"method": "POST", "url": HOOK, "content_type": "json",
                                  "body": '{"contact": "{{contact}}"}', "timeout": 2},
                     level=level, scope_id=scope_id)


def stored(model, row_id):
    """Every column of the row as the database holds it now (None once it is gone)."""
    db.session.rollback()
    table = model.__table__
    found = db.session.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()
    return dict(found) if found is not None else None


def how_many(*models):
    db.session.rollback()
    return [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models]


def deliveries_queue(redis_server):
    return Queue(DELIVERIES_QUEUE, connection=Redis.from_url(redis_server.url))


# ---- the Tracking tab: a rule of a scope the user may not manage -----------------------------

# What each of them manages; a Project rule is the Global Admins'.
HOME = {"manager": "email_campaign", "owner": "email_list"}
# (who, the level of someone else's rule): a manager against another manager's campaigns and
# against the lists their own campaign reads, an owner against another owner's lists and against
# a campaign scrubbed against their own list; and both against a Project rule.
CASES = [("manager", "email_campaign"), ("manager", "sms_campaign"), ("manager", "email_list"),
         ("manager", "project"), ("owner", "email_list"), ("owner", "phone_list"),
         ("owner", "email_campaign"), ("owner", "project")]
CHANGED = {"trigger": "contact_added", "action": "ping_url", "method": "POST",
           "url": "http://127.0.0.1:9/changed", "content_type": "json",
           "body": '{"changed": "{{contact}}"}', "timeout": "5"}
# name: (method, what follows the rule's address, the form, the rule's status before)
ROUTES = {
    "disable": ("POST", "/toggle", {}, RuleStatus.ACTIVE),
    "enable": ("POST", "/toggle", {}, RuleStatus.PAUSED),
    "delete": ("POST", "/delete", {}, RuleStatus.ACTIVE),
    "edit": ("GET", "/edit", {}, RuleStatus.ACTIVE),
    "update": ("POST", "", CHANGED, RuleStatus.ACTIVE),
    "test run pop-up": ("GET", "/test-run", {}, RuleStatus.ACTIVE),
    "test run": ("POST", "/test-run", {"contact": "typed.person@example.com"}, RuleStatus.ACTIVE),
}


@pytest.fixture
def scopes(make_user, make_campaign, make_list):
    """A Campaign Manager and a List Owner, the campaigns or lists of their own by level, and
    someone else's scope by (who, level) of CASES."""
    manager, owner = make_user(Role.CAMPAIGN_MANAGER), make_user(Role.LIST_OWNER)
    other_manager, other_owner = make_user(Role.CAMPAIGN_MANAGER), make_user(Role.LIST_OWNER)
    read_list = make_list(Channel.EMAIL, owner=other_owner)
    own = {"manager": {"email_campaign": make_campaign(Channel.EMAIL, manager=manager,
                                                       lists=[read_list]).id,
                       "sms_campaign": make_campaign(Channel.PHONE, manager=manager).id},
           "owner": {"email_list": make_list(Channel.EMAIL, owner=owner).id,
                     "phone_list": make_list(Channel.PHONE, owner=owner).id}}
    owners_list = db.session.get(OptOutList, own["owner"]["email_list"])
    theirs = {("manager", "email_campaign"): make_campaign(Channel.EMAIL, manager=other_manager).id,
              ("manager", "sms_campaign"): make_campaign(Channel.PHONE, manager=other_manager).id,
              ("manager", "email_list"): read_list.id,
              ("owner", "email_list"): make_list(Channel.EMAIL, owner=other_owner).id,
              ("owner", "phone_list"): make_list(Channel.PHONE, owner=other_owner).id,
              ("owner", "email_campaign"): make_campaign(Channel.EMAIL, manager=other_manager,
                                                         lists=[owners_list]).id,
              ("manager", "project"): None, ("owner", "project"): None}
    return {"manager": manager, "owner": owner}, own, theirs


@pytest.mark.parametrize("address", ["its own", "one of mine"])
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who, level", CASES)
def test_a_rule_of_a_scope_the_user_may_not_manage_is_refused_and_left_as_it_is(
        web, scopes, make_rule, redis_server, who, level, route, address):
    users, own, theirs = scopes
    rule_id = ping_rule(make_rule, level, theirs[who, level])
    method, action, form, status = ROUTES[route]
    rule = db.session.get(TrackingRule, rule_id)
    rule.status = status
    if status == RuleStatus.PAUSED:
        rule.paused_at, rule.paused_reason = utcnow(), "Every attempt failed."
    db.session.commit()
    if address == "its own":
        base = f"/tracking/{level}/{theirs[who, level] or 0}/rules"
    else:
        mine = level if level in own[who] else HOME[who]
        base = f"/tracking/{mine}/{own[who][mine]}/rules"
    before, counts = stored(TrackingRule, rule_id), how_many(Delivery, TestRun, Event)
    queue = deliveries_queue(redis_server)
    queue.empty()
    web.login(users[who])

    response = web.htmx(method, f"{base}/{rule_id}{action}", data=form)
    # The matrix of test_rules_pages.py: a Project address is forbidden, any other missing.
    assert response.status_code == (403 if base.startswith("/tracking/project/") else 404)
    assert f"Rule #{rule_id}" not in response.get_data(as_text=True)
    assert stored(TrackingRule, rule_id) == before
    assert how_many(Delivery, TestRun, Event) == counts
    assert queue.count == 0


@pytest.mark.parametrize("who, level", CASES)
def test_the_result_of_a_test_run_of_someone_elses_rule_is_not_shown(web, scopes, make_rule,
                                                                     admin, who, level):
    users, own, theirs = scopes
    rule = db.session.get(TrackingRule, ping_rule(make_rule, level, theirs[who, level]))
    run = rule_test_runs.start(rule, {"contact": "typed.person@example.com"}, admin)
    mine = level if level in own[who] else HOME[who]
    web.login(users[who])
    for base in (f"/tracking/{level}/{theirs[who, level] or 0}",
                 f"/tracking/{mine}/{own[who][mine]}"):
        response = web.htmx("GET", f"{base}/test-runs/{run.id}")
        assert response.status_code == (403 if base.startswith("/tracking/project/") else 404)
        assert "typed.person" not in response.get_data(as_text=True)


# ---- the Tracking Log: retry and Retry all of someone else's deliveries ---------------------

@pytest.fixture
def failed(make_user, make_list, make_rule, monkeypatch):
    """A List Owner's list and another owner's, a rule on each and a Project rule, every
    delivery of them failed by the real executor: (owner, their list's id, {name: rule id},
    the id of the owner's own delivery)."""
    ProjectSettings.get().retry_schedule = "0"  # one attempt, then failed
    db.session.commit()
    owner = make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner=owner), make_list(owner=make_user(Role.LIST_OWNER))
    rules = {"mine": ping_rule(make_rule, "email_list", mine.id),
             "theirs": ping_rule(make_rule, "email_list", theirs.id),
             "project": ping_rule(make_rule, "project", None)}
    dispatch(add_contacts(mine, ["mine@example.com"], Origin("api")).event_ids)
    dispatch(add_contacts(theirs, ["b@example.com", "c@example.com"], Origin("api")).event_ids)
    ids = db.session.scalars(sa.select(Delivery.id)).all()
    assert len(ids) == 6 and execute(ids) == 6
    assert {s for s, _ in delivery_states().values()} == {DeliveryStatus.FAILED}
    [my_delivery] = db.session.scalars(sa.select(Delivery.id)
                                       .where(Delivery.rule_id == rules["mine"])).all()
    monkeypatch.setattr(jobs, "_app", None)
    return owner, theirs.id, rules, my_delivery


def delivery_states():
    db.session.rollback()
    return {d.id: (d.status, d.attempts) for d in db.session.scalars(sa.select(Delivery))}


def run_retry_all_jobs(queue, app):
    """Run here the Retry all jobs the request queued, as a worker would."""
    jobs.use_app(app)
    for job in queue.get_jobs():
        if job.func_name == "optintel.jobs.retry_matching":
            job.func(*job.args)


@pytest.mark.parametrize("include_succeeded", [False, True])
@pytest.mark.parametrize("names, retries_mine", [
    ("their list", False), ("their rule", False), ("their list's scope", False),
    ("the Project rule", False), ("nothing", True), ("my list", True)])
def test_retry_all_retries_none_of_the_deliveries_of_others(web, failed, redis_server, app,
                                                            names, retries_mine,
                                                            include_succeeded):
    owner, their_list, rules, my_delivery = failed
    mine_list = db.session.get(Delivery, my_delivery).list_id
    query = {"their list": f"list_id={their_list}", "their rule": f"rule_id={rules['theirs']}",
             "their list's scope": f"level=email_list&scope_id={their_list}",
             "the Project rule": f"rule_id={rules['project']}", "nothing": "",
             "my list": f"list_id={mine_list}"}[names]
    if include_succeeded:
        query += "&include_succeeded=1"
    before = delivery_states()
    queue = deliveries_queue(redis_server)
    queue.empty()
    web.login(owner)

    dialog = web.htmx("GET", f"/logs/retry-all?{query}").get_data(as_text=True)
    response = web.htmx("POST", f"/logs/retry-all?{query}")
    assert response.status_code == 200
    run_retry_all_jobs(queue, app)
    after = delivery_states()
    assert {i: s for i, s in after.items() if i != my_delivery} == \
        {i: s for i, s in before.items() if i != my_delivery}
    if retries_mine:
        assert "Retry started: 1 delivery will be attempted again" in response.get_data(as_text=True)
        assert after[my_delivery][0] == DeliveryStatus.PENDING
    else:
        assert "there is nothing to retry" in dialog and "hx-post" not in dialog
        assert "HX-Trigger" not in response.headers
        assert after[my_delivery] == before[my_delivery]


def test_retrying_a_delivery_of_someone_elses_rule_is_refused_and_changes_nothing(
        web, api_as, failed, redis_server):
    """In the Tracking Log and through the API alike: their rule's and the Project rule's."""
    owner, _, _, my_delivery = failed
    before = delivery_states()
    queue = deliveries_queue(redis_server)
    queue.empty()
    web.login(owner)
    api = api_as(owner)
    for delivery_id in sorted(set(before) - {my_delivery}):
        assert web.htmx("POST", f"/logs/deliveries/{delivery_id}/retry").status_code == 404
        assert api.post(f"/deliveries/{delivery_id}/retry").status_code == 404
    assert delivery_states() == before and queue.count == 0


# ---- the API: someone else's SMS campaign, someone else's list download ---------------------

TOKEN = "their-twilio-auth-token-0123456789"


@pytest.mark.parametrize("changes", [{"sms_auth_token": "an-intruders-token"},
                                     {"sms_auth_token": ""}, {"name": "Renamed"}])
def test_a_campaign_manager_cannot_read_or_change_another_managers_sms_campaign(
        api, api_as, make_user, make_campaign, changes):
    manager = make_user(Role.CAMPAIGN_MANAGER)
    mine = make_campaign(Channel.PHONE, manager=manager)
    created = api.post("/sms-campaigns", {"name": "Their reminders", "sms_auth_token": TOKEN,
                                          "manager_id": make_user(Role.CAMPAIGN_MANAGER).id})
    assert created.status_code == 201, created.json
    theirs = created.json["id"]
    before = stored(Campaign, theirs)
    client = api_as(manager)
    assert client.get(f"/sms-campaigns/{mine.id}").status_code == 200
    for response in (client.get(f"/sms-campaigns/{theirs}"),
                     client.patch(f"/sms-campaigns/{theirs}", changes)):
        assert response.status_code == 404
        assert "Their reminders" not in response.get_data(as_text=True)
    assert stored(Campaign, theirs) == before
    assert secrets.decrypt(before["sms_auth_token_encrypted"]) == TOKEN


def test_a_list_owner_cannot_download_another_owners_list(api_as, make_user, make_list):
    owner = make_user(Role.LIST_OWNER)
    mine, theirs = make_list(owner=owner), make_list(owner=make_user(Role.LIST_OWNER))
    add_contacts(mine, ["mine@example.com"], Origin("api"))
    add_contacts(theirs, ["hidden.person@example.com"], Origin("api"))
    client = api_as(owner)
    response = client.get(f"/email-lists/{theirs.id}/download?format=md5")
    assert response.status_code == 404
    assert md5_of("hidden.person@example.com") not in response.get_data(as_text=True)
    assert how_many(ListDownload) == [0]
    own = client.get(f"/email-lists/{mine.id}/download?format=md5")
    assert own.status_code == 200 and own.get_data(as_text=True) == md5_of("mine@example.com") + "\n"
    db.session.rollback()
    assert [(d.list_id, d.user_id) for d in db.session.scalars(sa.select(ListDownload))] == \
        [(mine.id, owner.id)]
