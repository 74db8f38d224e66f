"""SQLite's writers take turns on a lock file beside the database: a transaction holds the turn
from its first write to its commit or rollback, and a second writer waits for it there."""
import fcntl
import threading
import time

import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import ProjectSettings

WRITE = sa.text("UPDATE project_settings SET rules_version = rules_version WHERE id = 1")


@pytest.fixture
def engine(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's writers do not block each other")
    ProjectSettings.get()
    db.session.commit()
    return db.engine


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
        connection.execute(sa.text("SELECT 1 FROM project_settings"))
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
