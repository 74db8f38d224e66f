"""SQLite's writers take turns on a lock file beside the database: a transaction holds the turn
from its first write to its commit or rollback, and a second writer waits for it there."""
import fcntl
import threading
import time

import pytest
import sqlalchemy as sa

from optintel.database import configure_sqlite

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
