"""The worker process: RQ's SimpleWorker on the Opt-Intel queues, which waits out Redis
outages, plus a reconciler tick that one worker at a time runs."""
import logging
import threading
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import SimpleWorker

from . import imports, jobs, rule_test_runs
from .deliveries.reconciler import reconcile
from .events import outbox
from .queue import QUEUES, redis_connection
from .tracking_log.pruning import prune

log = logging.getLogger(__name__)
RECONCILER_LOCK = "optintel:reconciler"
PRUNER_LOCK = "optintel:pruner"
PRUNE_EVERY = 3600


def wait_for_redis(conn, url):
    """Block until Redis answers."""
    while True:
        try:
            return conn.ping()
        except RedisError as exc:
            log.warning("Waiting for Redis at %s: %s", url, exc)
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
        except Exception:  # noqa: BLE001 — a failed tick (Redis or database away) waits for the next
            log.exception("Reconciler tick failed; retrying in %s s", interval)


def run(app, burst=False):
    """Work the queues until stopped; a lost Redis connection is waited out, not fatal."""
    jobs.use_app(app)
    conn = redis_connection(app)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=reconciler_tick, args=(app, stop), daemon=True,
                         name="reconciler").start()
    try:
        while True:
            wait_for_redis(conn, app.config["REDIS_URL"])
            try:
                SimpleWorker(list(QUEUES), connection=conn).work(burst=burst)
                return
            except RedisError as exc:
                log.warning("Lost Redis (%s); reconnecting", exc)
                time.sleep(1)
    finally:
        stop.set()
