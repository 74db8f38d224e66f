"""SQLite's writers take turns on a lock file beside the database: a transaction holds the turn
from its first write to its commit or rollback, a second writer waits for it there, and has it
before the last holder takes it again. A worker's batch reads what it needs before its claim,
and a dispatch reads and matches its events before it marks them, so that the turn each holds is
only as long as its writes."""
import fcntl
import threading
import time

import pytest
import sqlalchemy as sa

from optintel import database
from optintel.contact_changes import Origin, add_contacts
from optintel.database import WRITES, configure_sqlite
from optintel.deliveries import dispatch as dispatch_module
from optintel.deliveries import executor
from optintel.deliveries.dispatch import dispatch
from optintel.extensions import db
from optintel.models import Delivery
from tests.conftest import ON_POSTGRES, statements_of

WRITE = sa.text("UPDATE settings SET version = version + 1")


@pytest.fixture
def engine(tmp_path):
    """A SQLite file of its own with the product's connection settings, whichever database the
    suite runs on."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    configure_sqlite(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE settings (version INTEGER)"))
        connection.execute(sa.text("INSERT INTO settings VALUES (1)"))
    yield engine
    engine.dispose()


def turn_is_free(engine):
    with open(f"{engine.url.database}-writers.lock", "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_transaction_holds_the_turn_from_its_first_write_to_its_end(engine, end):
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT version FROM settings"))
        assert turn_is_free(engine)
        connection.execute(WRITE)
        assert not turn_is_free(engine)
        getattr(connection, end)()
        assert turn_is_free(engine)


def test_a_second_writer_waits_for_the_first_to_commit(engine):
    finished = {}

    def second():
        with engine.connect() as connection:
            connection.execute(WRITE)
            connection.commit()
            finished["second"] = time.monotonic()

    with engine.connect() as first:
        first.execute(WRITE)
        writer = threading.Thread(target=second)
        writer.start()
        time.sleep(0.3)
        assert "second" not in finished
        first.commit()
        finished["first"] = time.monotonic()
    writer.join(10)
    assert finished["first"] <= finished["second"]


def test_a_writer_waiting_for_the_turn_has_it_before_the_last_holder_takes_it_again(engine):
    """The turn goes to the writer that waits for it, not back to the one that just gave it up
    and writes again at once (a worker's next batch): an API call would otherwise wait behind
    every batch of the workers."""
    times = {}

    def waiting():
        with engine.connect() as connection:
            connection.execute(WRITE)
            times["waiting wrote"] = time.monotonic()
            time.sleep(0.05)
            connection.commit()

    with engine.connect() as holder:
        holder.execute(WRITE)
        writer = threading.Thread(target=waiting)
        writer.start()
        time.sleep(0.1)
        holder.commit()
        holder.execute(WRITE)
        times["holder wrote again"] = time.monotonic()
        holder.commit()
    writer.join(10)
    assert times["waiting wrote"] < times["holder wrote again"]


@pytest.fixture
def turn_held_elsewhere(engine):
    """The writers' turn taken by another open of the lock file, as another process would."""
    with open(f"{engine.url.database}-writers.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield lock


def test_a_writer_waiting_for_the_turn_sleeps_until_it_is_given_up(engine, turn_held_elsewhere):
    wrote, cpu = threading.Event(), {}

    def writer():
        with engine.connect() as connection:
            started = time.thread_time()
            connection.execute(WRITE)
            cpu["writing"] = time.thread_time() - started
            wrote.set()
            connection.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    assert not wrote.is_set()
    fcntl.flock(turn_held_elsewhere, fcntl.LOCK_UN)
    assert wrote.wait(5)
    thread.join(5)
    # Looking for the turn every half millisecond cost about 35 ms of CPU in half a second.
    assert cpu["writing"] < 0.015


def test_a_writer_whose_turn_does_not_come_goes_on_without_it_and_leaves_it_free(
        engine, turn_held_elsewhere, monkeypatch):
    monkeypatch.setattr(database, "TURN_WAIT_SECONDS", 0.2)
    with engine.connect() as connection:
        connection.execute(WRITE)  # SQLite itself lets it write: no other writer is in it
        connection.commit()
    fcntl.flock(turn_held_elsewhere, fcntl.LOCK_UN)
    # The wait it left takes the turn as it is given up, and gives it back at once.
    deadline = time.monotonic() + 5
    while not turn_is_free(engine) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert turn_is_free(engine)


def test_a_batch_reads_its_deliveries_events_rules_and_settings_before_its_first_write(
        app, http_sink, make_list, make_rule):
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook",
                           "content_type": "json", "body": '{"email": "{{email}}"}'})
    ids = dispatch(add_contacts(make_list(name="Main"), [f"r{n}@example.com" for n in range(3)],
                                Origin("api")).event_ids)

    attempted, sent = statements_of(lambda: executor.execute(ids))
    assert attempted == 3
    statements = [" ".join(sql.split()) for sql, _ in sent]
    first_write = next(n for n, sql in enumerate(statements) if WRITES.match(sql))
    assert statements[first_write].startswith("UPDATE deliveries SET")  # the claim
    reads = [sql.split(" FROM ")[1].split()[0] for sql in statements if sql.startswith("SELECT")]
    assert sorted(reads) == ["deliveries", "events", "opt_out_lists", "project_settings",
                             "tracking_rules"]
    assert [sql for sql in statements[first_write:] if sql.startswith("SELECT")] == []


def test_a_dispatch_reads_and_matches_its_events_before_its_first_write(
        app, http_sink, make_list, make_rule):
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook"})
    ids = add_contacts(make_list(name="Main"), [f"d{n}@example.com" for n in range(3)],
                       Origin("api")).event_ids

    created, sent = statements_of(lambda: dispatch(ids))
    assert len(created) == 3
    statements = [" ".join(sql.split()) for sql, _ in sent]
    first_write = next(n for n, sql in enumerate(statements) if WRITES.match(sql))
    assert statements[first_write].startswith("UPDATE events SET dispatched_at")
    assert [sql for sql in statements[first_write:] if sql.startswith("SELECT")] == []


@pytest.mark.skipif(ON_POSTGRES,
                    reason="PostgreSQL locks the events a dispatch reads until it commits")
def test_an_event_another_dispatch_marks_after_it_was_read_here_makes_no_delivery_here(
        app, monkeypatch, http_sink, make_list, make_rule):
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook"})
    ids = add_contacts(make_list(name="Main"), [f"m{n}@example.com" for n in range(3)],
                       Origin("api")).event_ids
    matching = dispatch_module.current_index

    def taken_meanwhile():
        with db.engine.begin() as other:
            other.execute(sa.text("UPDATE events SET dispatched_at = CURRENT_TIMESTAMP"
                                  " WHERE id = :id"), {"id": ids[0]})
        return matching()
    monkeypatch.setattr(dispatch_module, "current_index", taken_meanwhile)

    created = dispatch(ids)
    assert sorted(db.session.scalars(sa.select(Delivery.event_id).where(
        Delivery.id.in_(created)))) == sorted(ids[1:])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.event_id == ids[0])) == 0
