"""Events go from the committed contact change to the `events` queue and real RQ workers; with
Redis down the change still succeeds and its events wait in the table."""
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from optintel.contact_changes import Origin, add_contacts, remove_contacts
from optintel.extensions import db
from optintel.models import Contact, ContactSource, Event
from optintel.queue import EVENTS_QUEUE

from conftest import wait_for

MANUAL = Origin(ContactSource.MANUAL)


def committed(query):
    """A scalar read on a connection of its own: what other processes see."""
    with db.engine.connect() as conn:
        return conn.scalar(query)


def undispatched_count():
    return committed(sa.select(sa.func.count()).select_from(Event.__table__)
                     .where(Event.__table__.c.dispatched_at.is_(None)))


def test_each_batch_is_one_job_on_the_events_queue(make_list, redis_server):
    opt_out_list = make_list()
    first = add_contacts(opt_out_list, [f"user{n}@example.com" for n in range(1200)], MANUAL)
    second = remove_contacts(opt_out_list, ["user1@example.com", "user2@example.com"], MANUAL)
    nothing = add_contacts(opt_out_list, ["user3@example.com"], MANUAL)
    jobs = Queue(EVENTS_QUEUE, connection=Redis.from_url(redis_server.url)).get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [
        ("optintel.jobs.dispatch_events", (first.event_ids,)),
        ("optintel.jobs.dispatch_events", (second.event_ids,))]
    assert len(first.event_ids) == 1200 and nothing.event_ids == []
    assert first.dispatched and second.dispatched
    assert undispatched_count() == 1202


def test_a_worker_marks_the_events_dispatched(make_list, workers, redis_server):
    workers.start(1)
    opt_out_list = make_list()
    add_contacts(opt_out_list, ["a@example.com", "b@example.com"], MANUAL)
    remove_contacts(opt_out_list, ["a@example.com"], MANUAL)
    assert committed(sa.select(sa.func.count()).select_from(Event.__table__)) == 3
    wait_for(lambda: undispatched_count() == 0, message="the worker to dispatch the events")
    # The first job may take the second's events too: the second then ends with nothing to do.
    queue = Queue(EVENTS_QUEUE, connection=Redis.from_url(redis_server.url))
    wait_for(lambda: queue.count == 0 and queue.started_job_registry.count == 0,
             message="the worker to run every dispatch job")
    assert queue.failed_job_registry.count == 0


def test_events_queued_before_a_worker_starts_are_dispatched_when_it_does(make_list, workers):
    add_contacts(make_list(), ["late@example.com"], MANUAL)
    assert undispatched_count() == 1
    workers.start(1)
    wait_for(lambda: undispatched_count() == 0, message="the worker to dispatch the events")


def test_with_redis_down_a_change_commits_and_its_events_wait(app_without_redis, make_list):
    opt_out_list = make_list()
    outcome = add_contacts(opt_out_list, ["a@example.com", "b@example.com"], MANUAL)
    assert (outcome.changed, outcome.dispatched) == (2, False)
    assert committed(sa.select(sa.func.count()).select_from(Contact.__table__)) == 2
    assert undispatched_count() == 2


def test_with_redis_down_the_api_request_succeeds(app_without_redis, api, make_list):
    opt_out_list = make_list()
    response = api.post(f"/email-lists/{opt_out_list.id}/emails-add",
                        {"emails": ["a@example.com", "bad"]})
    assert response.status_code == 200
    assert (response.json["added"], len(response.json["invalid"])) == (1, 1)
    assert committed(sa.select(Contact.__table__.c.value)) == "a@example.com"
    assert committed(sa.select(Event.__table__.c.contact)
                     .where(Event.__table__.c.dispatched_at.is_(None))) == "a@example.com"
