"""Connection settings that make SQLite safe for a web server and workers side by side, and its
writers quick to take turns."""
import fcntl
import os
import re
import sqlite3
import threading
import time

import sqlalchemy as sa

# A statement that makes a transaction a writer (Python's sqlite3 begins one before it).
WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# How long a writer waits for its turn before it leaves the wait to SQLite's own busy timeout.
TURN_WAIT_SECONDS = 10.0


def init_app(app, db):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)


def configure_sqlite(engine):
    """The settings of every connection of a SQLite engine; its writers take turns (WriterTurns)
    when it is a file."""
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        turns = f"{database}-writers.lock"

        @sa.event.listens_for(engine, "do_connect")
        def _taking_turns(_dialect, _record, _args, params):
            params["factory"] = TurnTakingConnection

        @sa.event.listens_for(engine, "connect")
        def _turns(dbapi_connection, _record):
            dbapi_connection.turns = WriterTurns(turns)

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while a worker writes; busy_timeout waits instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class WriterTurns:
    """One connection's hold on the turn of the database's writers: an exclusive flock on a
    file beside the database, taken before a transaction's first write and given back once it
    commits or rolls back. SQLite lets one writer at a time and makes the others wait by
    sleeping ever longer (up to 100 ms a time) whatever the first one does; a writer waiting
    here sleeps until the kernel wakes it as the last one commits. A writer waits for
    the turn holding a second lock, the queue's, which every writer takes first: one that gave
    the turn up and writes again at once (a worker's next batch) waits behind the writer
    already waiting, instead of taking the turn back before that one is woken. Should the
    turn not come in TURN_WAIT_SECONDS, the writer goes on without it, to SQLite's own wait."""

    def __init__(self, path):
        self.file = open(path, "a+b")  # noqa: SIM115 — held as long as the connection
        self.queue = open(f"{path}-queue", "a+b")  # noqa: SIM115 — likewise
        self.held = False

    def take(self):
        deadline = time.monotonic() + TURN_WAIT_SECONDS
        if not _lock(self.queue, deadline):
            return
        try:
            self.held = _lock(self.file, deadline)
        finally:
            fcntl.flock(self.queue, fcntl.LOCK_UN)

    def give_back(self):
        if self.held:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.held = False

    def close(self):
        self.give_back()
        self.file.close()
        self.queue.close()


def _lock(file, deadline):
    """Take an exclusive flock of the file, waiting until `deadline` (time.monotonic()) at
    most; whether it was taken. A wait sleeps in the kernel, which wakes it as the lock is
    given up (_Waiter), rather than looking again and again."""
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return _Waiter(file).wait(deadline - time.monotonic())


class _Waiter:
    """A blocking flock of a file in a thread of its own, on a second descriptor of the same
    open file (a flock belongs to the open file, whichever descriptor took it), while the
    caller waits for it with a timeout, which flock has not; a lock it takes after the caller
    stopped waiting is given back at once."""

    def __init__(self, file):
        self.descriptor = os.dup(file.fileno())
        self.ended, self.guard = threading.Event(), threading.Lock()
        self.taken = self.abandoned = False
        threading.Thread(target=self._take, name="writers-turn", daemon=True).start()

    def _take(self):
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX)
            with self.guard:
                if self.abandoned:
                    fcntl.flock(self.descriptor, fcntl.LOCK_UN)
                else:
                    self.taken = True
        finally:
            os.close(self.descriptor)
            self.ended.set()

    def wait(self, seconds):
        self.ended.wait(seconds)
        with self.guard:
            self.abandoned = not self.taken
            return self.taken


class TurnTakingCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection.before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, parameters):
        self.connection.before(sql)
        return super().executemany(sql, parameters)


class TurnTakingConnection(sqlite3.Connection):
    """A sqlite3 connection whose writes wait for the writers' turn (WriterTurns)."""

    turns = None

    def cursor(self, factory=TurnTakingCursor):
        return super().cursor(factory)

    def before(self, sql):
        if self.turns is not None and not self.turns.held and WRITES.match(sql):
            self.turns.take()

    def commit(self):
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self):
        try:
            super().close()
        finally:
            if self.turns is not None:
                self.turns.close()

    def _give_back(self):
        if self.turns is not None and not self.in_transaction:
            self.turns.give_back()
