"""The worker processes: RQ's SimpleWorker on the Opt-Intel queues, with the lease heartbeat
and a reconciler tick (one worker at a time) beside it; it waits out Redis outages, and a warm
shutdown sends nothing more and releases what it holds. `run` works in this process, `run_pool`
runs several under RQ's worker pool, which starts a new one when one dies."""
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.worker_pool import WorkerPool

from . import imports, jobs, rule_test_runs
from .deliveries import executor, leases
from .deliveries.reconciler import reconcile
from .events import outbox
from .queue import QUEUES, redis_connection
from .server_log import without_password
from .tracking_log.pruning import prune

log = logging.getLogger(__name__)
RECONCILER_LOCK = "optintel:reconciler"
WORKER_TTL = 18
# How long a pool waits for its processes after a stop: beyond the shutdown grace
# (OPTINTEL_SHUTDOWN_GRACE_SECONDS), within the 5 s that honcho gives before its SIGKILL, with
# RQ's second between two looks at them.
STOP_PATIENCE = 3
PRUNER_LOCK = "optintel:pruner"
PRUNE_EVERY = 3600
# A Redis that started with the worker (make run) answers within these seconds: waiting that
# long for it is no cause for a warning.
STARTING_SECONDS = 10


def wait_for_redis(conn, url):
    """Block until Redis answers: said once, then after STARTING_SECONDS a warning each second."""
    waiting_since, said = time.monotonic(), False
    while True:
        try:
            return conn.ping()
        except RedisError as exc:
            late = time.monotonic() - waiting_since >= STARTING_SECONDS
            if late or not said:
                log.log(logging.WARNING if late else logging.INFO, "Waiting for Redis at %s: %s",
                        without_password(url), exc)
                said = True
            time.sleep(1)


def reconcile_all():
    """Hand out again what Redis lost (events, deliveries, test runs) and the retries that fell
    due."""
    lost_after = current_app.config["OPTINTEL_REQUEUE_AFTER_SECONDS"]
    events = outbox.hand_off_lost(lost_after)
    if events:
        log.info("Reconciler handed out %d event(s)", events)
    reconcile()
    rule_test_runs.hand_off_lost(lost_after)
    imports.hand_off_lost(lost_after)


def reconciler_tick(app, stop):
    """Every few seconds, the worker that takes the lock reconciles, and once an hour one of
    them prunes the log; errors wait for the next tick."""
    interval = app.config["OPTINTEL_RECONCILE_SECONDS"]
    conn = redis_connection(app)
    while not stop.wait(interval):
        try:
            if conn.set(RECONCILER_LOCK, "1", nx=True, px=max(int(interval * 900), 100)):
                with app.app_context():
                    reconcile_all()
            if conn.set(PRUNER_LOCK, "1", nx=True, ex=PRUNE_EVERY):
                with app.app_context():
                    prune()
        except RedisError as exc:
            log.warning("Reconciler tick: Redis unavailable (%s); retrying in %s s", exc, interval)
        except Exception:  # noqa: BLE001 — a failed tick (database away) waits for the next
            log.exception("Reconciler tick failed; retrying in %s s", interval)


def _end_quietly(signum, frame):
    raise SystemExit(0)


class Worker(SimpleWorker):
    """One worker process: the app of this process (built here, after a pool's fork), the lease
    heartbeat and, unless in burst mode, the reconciler tick beside RQ's work loop."""

    def __init__(self, *args, **kwargs):
        # Until the work loop handles them, a stop request simply ends the process.
        signal.signal(signal.SIGINT, _end_quietly)
        signal.signal(signal.SIGTERM, _end_quietly)
        self.app = jobs.worker_app()
        wait_for_redis(kwargs["connection"], self.app.config["REDIS_URL"])
        # A job's description quotes its arguments: a Retry all's filter holds the contact
        # searched for.
        kwargs["log_job_description"] = False
        # Waits for a job of at most WORKER_TTL - 15 s: a stop signal that the kernel gives to
        # one of this process's other threads runs its handler only when the main thread's wait
        # in Redis returns (RQ's default would be 405 s).
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)
        self.lost_redis = self.stopping = False
        self._reconciling = threading.Event()
        # The app, its modules and their tables live as long as the process: the garbage
        # collector need not walk them again at every collection.
        gc.freeze()

    def work(self, burst=False, logging_level=None, **options):
        """RQ's work loop until stopped, or until Redis is lost (then `lost_redis` is set)."""
        # Retries are scheduled in the database, not by RQ's scheduler (another process).
        options["with_scheduler"] = False
        holding = threading.Event()
        threading.Thread(target=leases.heartbeat, args=(self.app, holding), daemon=True,
                         name="heartbeat").start()
        if not burst:
            threading.Thread(target=reconciler_tick, args=(self.app, self._reconciling),
                             daemon=True, name="reconciler").start()
        try:
            # The app's log configuration decides the level (server_log).
            return super().work(burst, None, **options)
        except RedisError as exc:
            if not self.stopping:
                log.warning("Lost Redis (%s); reconnecting", exc)
                self.lost_redis = True
            return False
        finally:
            self._reconciling.set()
            holding.set()
            _exit_without_waiting_for_abandoned_attempts()

    def request_stop(self, signum, frame):
        """A warm shutdown: the batch in hand sends nothing more, and the reconciler stops."""
        self.stopping = True
        executor.stop()
        self._reconciling.set()
        # Also when idle: the StopRequested that RQ raises from this handler is lost when it
        # lands in a step that catches every exception (cleaning the registries as the loop
        # starts), and the loop would then wait in Redis for a job, past the pool's patience.
        self._stop_requested = True
        super().request_stop(signum, frame)

    def set_shutdown_requested_date(self):
        """RQ notes a warm shutdown in Redis (from the signal handler); when Redis stopped
        first, the note is left out rather than breaking off the batch in hand."""
        try:
            super().set_shutdown_requested_date()
        except RedisError as exc:
            log.info("Redis stopped before this worker; the shutdown is not noted there (%s)",
                     exc)

    def heartbeat(self, timeout=None, pipeline=None):
        """RQ's heartbeat of this worker (its last beat and two expiries), in one trip to Redis
        rather than one a command: it beats twice a job."""
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        with self.connection.pipeline(transaction=False) as beat:
            super().heartbeat(timeout, pipeline=beat)
            beat.execute()
        return None

    def execute_job(self, job, queue):
        """RQ's execution; when Redis went away first during a shutdown (as under `make run`),
        the database holds the outcome and the worker just stops."""
        try:
            super().execute_job(job, queue)
        except RedisError as exc:
            if not self.stopping:
                raise
            log.info("Redis stopped before this worker; the database holds the outcome of job "
                     "%s", job.id)
            raise StopRequested() from exc


def _exit_without_waiting_for_abandoned_attempts():
    """Attempts left running at a shutdown (their deliveries released) would hold the process
    until their timeouts: end it now."""
    if executor.left_running():
        log.info("Exiting without waiting for %d attempt(s) left running",
                 executor.left_running())
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def run(app, burst=False):
    """Work the queues in this process until stopped; a lost Redis connection is waited out, not
    fatal."""
    jobs.use_app(app)
    conn = redis_connection(app)
    while True:
        worker = Worker(list(QUEUES), connection=conn)
        worker.work(burst=burst)
        if not worker.lost_redis:
            return
        time.sleep(1)


class Pool(WorkerPool):
    """RQ's worker pool, where a worker process still alive STOP_PATIENCE seconds after the stop
    signal is killed: an idle one has been seen to miss the signal and wait on."""

    def stop_workers(self):
        self._stop_deadline = time.monotonic() + STOP_PATIENCE
        super().stop_workers()

    def all_workers_have_stopped(self):
        if super().all_workers_have_stopped():
            return True
        if time.monotonic() <= self._stop_deadline:
            return False
        for data in list(self.worker_dict.values()):
            log.warning("Worker process %s did not stop; killing it", data.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(data.pid, signal.SIGKILL)
        # Reaped at once, not at RQ's next look a second later.
        return super().all_workers_have_stopped()


def run_pool(app, processes, burst=False):
    """Run `processes` worker processes under RQ's worker pool, which starts a new one when one
    dies, until stopped; each builds its own app after the fork."""
    pool = Pool(list(QUEUES), connection=redis_connection(app), num_workers=processes,
                      worker_class=Worker)
    pool.start(burst=burst)
