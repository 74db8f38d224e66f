"""Small batches cost little: a delivery job fills its batch with the other due deliveries, a
dispatch job attempts the deliveries that fit one batch itself, and a rule's settings are
decrypted and prepared once per version of the rule and of the keys. Against the real sink,
Redis and (for the dispatch job) a real worker."""
import base64
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from cryptography.fernet import Fernet
from standardwebhooks import Webhook

from optintel import key_rotation, secrets
from optintel.config import TestConfig
from optintel.contact_changes import Origin, add_contacts
from optintel.deliveries.dispatch import dispatch
from optintel.deliveries.executor import execute
from optintel.extensions import db
from optintel.keys import EXTENSION, Keyring
from optintel.models import Attempt, Delivery, DeliveryStatus, RuleStatus, TrackingRule
from optintel.queue import DELIVERIES_QUEUE, queue
from tests.conftest import fresh, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def ping(url, **settings):
    return {"method": "POST", "url": url, "content_type": "json", "body": "{}", "timeout": 2,
            **settings}


def statuses(ids):
    by_id = {d.id: d.status for d in fresh(sa.select(Delivery).where(Delivery.id.in_(ids)))}
    return [by_id[i] for i in ids]


def set_deliveries(ids, **values):
    table = Delivery.__table__
    db.session.execute(sa.update(table).where(table.c.id.in_(ids)).values(**values))
    db.session.commit()


def test_a_delivery_job_takes_the_other_due_deliveries_up_to_its_batch(app, http_sink,
                                                                       make_list, make_rule):
    app.config["OPTINTEL_DELIVERY_BATCH"] = 4
    make_rule("ping_url", ping(http_sink.url + "/hook"))
    ids = dispatch(add_contacts(make_list(), [f"b{i}@example.com" for i in range(8)],
                                Origin("api")).event_ids)
    now = datetime.now(timezone.utc)
    # Not due: held by a live worker, a retry due later, a held delivery.
    set_deliveries(ids[1:2], lease_until=now + timedelta(minutes=1))
    set_deliveries(ids[2:3], status=DeliveryStatus.RETRYING, next_attempt_at=now + timedelta(hours=1))
    set_deliveries(ids[3:4], status=DeliveryStatus.HELD, next_attempt_at=None)
    # Due longest first: the last one, then the others in order.
    set_deliveries(ids[7:8], next_attempt_at=now - timedelta(minutes=5))

    assert execute([ids[0]], fill_batch=True) == 4
    assert statuses(ids) == [DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING,
                             DeliveryStatus.RETRYING, DeliveryStatus.HELD,
                             DeliveryStatus.SUCCEEDED, DeliveryStatus.SUCCEEDED,
                             DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED]
    assert len(http_sink.received("/hook")) == 4
    # Given nothing (its deliveries taken by another job), a job still fills its batch.
    assert execute([ids[0]], fill_batch=True) == 1
    assert statuses(ids)[6] == DeliveryStatus.SUCCEEDED
    assert execute([], fill_batch=True) == 0


def test_a_dispatch_job_attempts_the_deliveries_that_fit_one_batch_itself(app, http_sink,
                                                                          make_list, make_rule):
    app.config["OPTINTEL_DELIVERY_BATCH"] = 6
    for n in range(3):
        make_rule("ping_url", ping(f"{http_sink.url}/hook/{n}"))
    opt_out_list, deliveries_queue = make_list(), queue(DELIVERIES_QUEUE)

    two = dispatch(add_contacts(opt_out_list, ["a@example.com", "b@example.com"],
                                Origin("api")).event_ids, execute_here=True)
    assert statuses(two) == [DeliveryStatus.SUCCEEDED] * 6
    assert deliveries_queue.count == 0 and len(http_sink.received()) == 6
    assert all(d.enqueued_at is None for d in fresh(sa.select(Delivery)))

    # More than a batch: handed to the queue, not attempted here.
    three = dispatch(add_contacts(opt_out_list, ["c@example.com", "d@example.com",
                                                 "e@example.com"], Origin("api")).event_ids,
                     execute_here=True)
    assert statuses(three) == [DeliveryStatus.PENDING] * 9
    assert deliveries_queue.count == 2 and len(http_sink.received()) == 6


def test_a_dispatch_job_takes_other_undispatched_events_as_far_as_they_fill_its_batch(
        app, http_sink, make_list, make_rule):
    app.config["OPTINTEL_DELIVERY_BATCH"] = 6
    for n in range(2):
        make_rule("ping_url", ping(f"{http_sink.url}/hook/{n}"))
    opt_out_list = make_list()
    events = [add_contacts(opt_out_list, [f"c{n}@example.com"], Origin("api")).event_ids
              for n in range(5)]

    # Its own event makes 2 deliveries: 2 more events, the oldest, fill the batch of 6.
    taken = dispatch(events[3], execute_here=True)
    assert statuses(taken) == [DeliveryStatus.SUCCEEDED] * 6
    assert sorted({d.event_id for d in fresh(sa.select(Delivery))}) == sorted(
        events[0] + events[1] + events[3])
    assert len(http_sink.received()) == 6
    # The job of an event it took ends with nothing to do.
    assert dispatch(events[0], execute_here=True) == []
    # A dispatch outside a job takes its own events alone.
    assert len(dispatch(events[2])) == 2
    assert sorted({d.event_id for d in fresh(sa.select(Delivery))}) == sorted(
        events[0] + events[1] + events[2] + events[3])


def test_a_worker_attempts_a_small_dispatch_without_a_delivery_job(app, api, http_sink,
                                                                   make_list, make_rule, workers):
    make_rule("ping_url", ping(http_sink.url + "/hook"))
    opt_out_list = make_list()
    workers.start(1)
    assert api.post(f"/email-lists/{opt_out_list.id}/emails-add",
                    {"emails": ["a@example.com", "b@example.com"]}).status_code == 200
    wait_for(lambda: [d.status for d in fresh(sa.select(Delivery))] ==
             [DeliveryStatus.SUCCEEDED] * 2, message="both deliveries to succeed")
    # Never handed to the deliveries queue: the dispatch job attempted them.
    assert [d.enqueued_at for d in fresh(sa.select(Delivery))] == [None, None]
    assert len(http_sink.received("/hook")) == 2


def test_a_claimed_delivery_not_attempted_keeps_its_count_of_attempts(app, http_sink, make_list,
                                                                     make_rule):
    rules = [make_rule("ping_url", ping(f"{http_sink.url}/hook/{n}")) for n in range(3)]
    ids = dispatch(add_contacts(make_list(), ["a@example.com"], Origin("api")).event_ids)
    by_rule = {d.rule_id: d.id for d in fresh(sa.select(Delivery))}
    # Two earlier attempts each; then one rule is paused and one disabled before they run.
    set_deliveries(ids, attempts=2, status=DeliveryStatus.RETRYING)
    table = TrackingRule.__table__
    for rule_id, status in ((rules[1], RuleStatus.PAUSED), (rules[2], RuleStatus.DISABLED)):
        db.session.execute(sa.update(table).where(table.c.id == rule_id).values(status=status))
    db.session.commit()

    assert execute(ids, fill_batch=True) == 1
    rows = {d.id: d for d in fresh(sa.select(Delivery))}
    assert [(rows[by_rule[r]].status, rows[by_rule[r]].attempts) for r in rules] == [
        (DeliveryStatus.SUCCEEDED, 3), (DeliveryStatus.HELD, 2), (DeliveryStatus.SKIPPED, 2)]
    assert [(a.delivery_id, a.number) for a in fresh(sa.select(Attempt))] == [
        (by_rule[rules[0]], 3)]


def _one_delivery(opt_out_list, email):
    (delivery_id,) = dispatch(add_contacts(opt_out_list, [email], Origin("api")).event_ids)
    return delivery_id


def _decryptions(monkeypatch):
    calls = []
    decrypt = secrets.decrypt

    def counted(token):
        calls.append(token)
        return decrypt(token)
    monkeypatch.setattr(secrets, "decrypt", counted)
    return calls


def test_a_rules_settings_are_read_once_until_it_is_edited(app, api, http_sink, make_list,
                                                           make_rule, monkeypatch):
    rule_id = make_rule("ping_url", ping(http_sink.url + "/first", signing_secret=SECRET))
    opt_out_list, decrypted = make_list(), _decryptions(monkeypatch)
    for n in range(3):
        assert execute([_one_delivery(opt_out_list, f"a{n}@example.com")]) == 1
    assert len(decrypted) == 1 and len(http_sink.received("/first")) == 3

    new_secret = "whsec_" + base64.b64encode(b"the rule's new signing secret").decode()
    assert api.patch(f"/tracking-rules/{rule_id}", {"action_settings": ping(
        http_sink.url + "/second", signing_secret=new_secret)}).status_code == 200
    delivery_id = _one_delivery(opt_out_list, "b@example.com")
    decrypted.clear()  # the API read the rule too
    assert execute([delivery_id]) == 1
    assert len(decrypted) == 1
    (sent,) = http_sink.received("/second")
    Webhook(new_secret).verify(sent.body, sent.headers)


def test_rotated_secrets_and_changed_keys_are_read_again(app, http_sink, make_list, make_rule,
                                                         monkeypatch):
    make_rule("ping_url", ping(http_sink.url + "/hook", signing_secret=SECRET))
    opt_out_list, decrypted = make_list(), _decryptions(monkeypatch)
    assert execute([_one_delivery(opt_out_list, "a@example.com")]) == 1

    # A new key, and the secrets rotated under it: read again, and still the same secret.
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.extensions, EXTENSION,
                        Keyring([new, TestConfig.OPTINTEL_ENCRYPTION_KEY]))
    assert key_rotation.rotate_stored() == 1
    assert execute([_one_delivery(opt_out_list, "b@example.com")]) == 1
    assert len(decrypted) == 2
    assert execute([_one_delivery(opt_out_list, "c@example.com")]) == 1
    assert len(decrypted) == 2, "read once per version"

    # Keys that no longer read the stored secret: the rule's settings are unreadable, not
    # served from memory.
    monkeypatch.setitem(app.extensions, EXTENSION, Keyring([Fernet.generate_key().decode()]))
    failed = _one_delivery(opt_out_list, "d@example.com")
    assert execute([failed]) == 1
    assert statuses([failed]) == [DeliveryStatus.FAILED]
    attempt = fresh(sa.select(Attempt).where(Attempt.delivery_id == failed))[0]
    assert attempt.error.startswith("Cannot read the rule's settings")
    for request in http_sink.received("/hook"):
        Webhook(SECRET).verify(request.body, request.headers)
    assert len(http_sink.received("/hook")) == 3
