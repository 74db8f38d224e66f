"""`flask worker --processes N`: N worker processes under one supervisor (RQ's worker pool) that
replaces a process that dies, keeps working, and stops cleanly. Real processes, Redis and HTTP
sink on loopback."""
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from optintel.models import Delivery, DeliveryStatus
from tests.conftest import KEYS, ROOT, fresh, wait_for
from tests.processes import alive, children

PATIENCE = 60
HONCHO_PATIENCE = 5


@pytest.fixture
def start_pool(app, database_url, redis_server, tmp_path):
    """start_pool(n) -> the supervisor of `flask worker --processes n`, in a process group of
    its own so that nothing outlives the test; its output goes to tmp_path/pool.log."""
    started = []

    def start(processes):
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_server.url,
                   FLASK_APP="app.py", OPTINTEL_ALLOW_PRIVATE_TARGETS="1",
                   OPTINTEL_RECONCILE_SECONDS="0.5", **KEYS)
        with open(tmp_path / "pool.log", "ab") as log:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "worker", "--processes", str(processes)],
                cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True))
        return started[-1]
    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
    if started:
        print("---- pool log ----\n" + (tmp_path / "pool.log").read_text(errors="replace"))


def pool_log(tmp_path):
    return (tmp_path / "pool.log").read_text(errors="replace")


def working_children(supervisor, count, tmp_path):
    """The supervisor's `count` worker processes, once each has said it listens."""
    def ready():
        pids = children(supervisor.pid)
        return pids if len(pids) == count and \
            pool_log(tmp_path).count("*** Listening on") >= count else None
    return wait_for(ready, PATIENCE, interval=0.2, message=f"{count} worker processes")


def test_a_killed_pool_process_is_replaced_and_the_pool_keeps_working(
        start_pool, tmp_path, api, http_sink, make_list, make_rule):
    supervisor = start_pool(2)
    first = working_children(supervisor, 2, tmp_path)

    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    replaced = wait_for(lambda: (pids := children(supervisor.pid)) and len(pids) == 2
                        and victim not in pids and pids, 15, interval=0.2,
                        message="the killed worker process to be replaced")
    assert not alive(victim) and supervisor.poll() is None
    assert len(replaced - first) == 1

    opt_out_list = make_list()
    make_rule("ping_url", {"method": "POST", "url": http_sink.url + "/hook",
                           "content_type": "json", "body": '{"email": "{{email}}"}'})
    emails = [f"pool{n}@example.com" for n in range(20)]
    assert api.post(f"/email-lists/{opt_out_list.id}/emails-add",
                    {"emails": emails}).status_code == 200
    wait_for(lambda: [d.status for d in fresh(sa.select(Delivery))]
             == [DeliveryStatus.SUCCEEDED] * len(emails), PATIENCE, interval=0.2,
             message="every delivery to succeed")
    assert len(http_sink.received("/hook")) == len(emails)

    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(15) == 0
    assert not any(alive(pid) for pid in replaced)
    log = pool_log(tmp_path)
    assert "Traceback" not in log


def test_the_pool_stops_on_sigint_as_on_ctrl_c(start_pool, tmp_path):
    supervisor = start_pool(2)
    workers = working_children(supervisor, 2, tmp_path)
    # Ctrl-C in a terminal signals the whole process group, supervisor and workers alike.
    os.killpg(supervisor.pid, signal.SIGINT)
    assert supervisor.wait(15) == 0
    assert not any(alive(pid) for pid in workers)
    assert "Traceback" not in pool_log(tmp_path)


def test_a_worker_process_that_misses_the_stop_is_killed_within_honchos_patience(start_pool,
                                                                                 tmp_path):
    supervisor = start_pool(2)
    workers = working_children(supervisor, 2, tmp_path)
    # A stopped process handles no signal: as an idle worker that missed the pool's stop.
    deaf = min(workers)
    os.kill(deaf, signal.SIGSTOP)
    stopping = time.monotonic()
    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(15) == 0
    # Under `make run`, honcho kills what is still running 5 s after its SIGTERM.
    assert time.monotonic() - stopping < HONCHO_PATIENCE
    assert not any(alive(pid) for pid in workers)
    assert f"Worker process {deaf} did not stop; killing it" in pool_log(tmp_path)


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_number_of_processes_that_is_not_a_count_is_refused(value, tmp_path):
    env = dict(os.environ, FLASK_APP="app.py", OPTINTEL_INSTANCE=str(tmp_path), **KEYS,
               DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}")
    result = subprocess.run([sys.executable, "-m", "flask", "worker", "--processes", value],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"'{value}' is neither a number of processes (1 or more) nor auto." in result.stderr


def test_a_working_worker_keeps_its_registration_alive_in_redis(start_pool, redis_server,
                                                               tmp_path):
    from redis import Redis
    from rq import Worker
    start_pool(1)
    conn = Redis.from_url(redis_server.url)
    [worker] = wait_for(lambda: Worker.all(connection=conn), PATIENCE, interval=0.2,
                        message="the worker's registration")
    first = worker.last_heartbeat
    # It beats again as it waits for jobs (every WORKER_TTL - 15 s), each beat extending the
    # expiry of its key.
    wait_for(lambda: Worker.find_by_key(worker.key, connection=conn).last_heartbeat > first,
             PATIENCE, interval=0.2, message="a second heartbeat")
    assert 0 < conn.ttl(worker.key) <= 18 + 60
