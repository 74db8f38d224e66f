"""Speed of the Tracking Log with real volumes.

Fills a fresh database (a SQLite file by default; --database-url for PostgreSQL, or --postgres
for a throwaway PostgreSQL cluster started here as .ci/run starts one) with 1,000,000
deliveries spread over the last 30 days, of 200 rules on 50 lists, with their events, one
attempt for each delivery that was tried, and the hourly (deliveries) and daily (events) counts
the chart and the home page read (computed once filled, by one INSERT ... SELECT ... GROUP BY
each). Then it times the
server, in this process (the Flask test client, logged in as a Global Admin; the median of 5
requests):

  - the first page of the Tracking Log: the page /logs/ and GET /api/v1/tracking-log
  - a filtered page: status=failed&list_id=X
  - the 50th page, reached by following the keyset "next" links 49 times
  - the chart (tracking_log.chart.chart) for the default range and for 30 days
  - the home page (its figures: contacts, deliveries by status, failing or paused rules, latest
    events, the chart of two days), as the Global Admin and as a List Owner

and prints each in ms against the target of 150 ms, with a few more cases for reference.
SQLite gets no ANALYZE (the app never runs one); PostgreSQL gets the VACUUM ANALYZE that
autovacuum would run after such a load.

    .venv/bin/python bench/log_pages.py [--deliveries 1000000] [--database-url URL | --postgres]
                                        [--reuse]
"""
import argparse
import hashlib
import html
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from optintel import create_app  # noqa: E402
from optintel.config import Config, sqlalchemy_url  # noqa: E402
from optintel.extensions import db  # noqa: E402
from optintel.models import (ActionType, ApiKey, Campaign, Channel, Delivery,  # noqa: E402
                             DeliveryCount, Event, EventCount, Level, Mailer, OptOutList, Role,
                             Storage, TrackingRule, Trigger, User)
from optintel.tracking_log.chart import chart  # noqa: E402
from optintel.tracking_log.filters import LogFilter  # noqa: E402

from processes import ThrowawayPostgres, free_port  # noqa: E402

TARGET_MS = 150
RUNS = 5
DAYS = 30
LISTS, EMAIL_LISTS, MD5_LISTS = 50, 40, 5
EMAIL_CAMPAIGNS, SMS_CAMPAIGNS, MAILERS = 10, 5, 10
PROJECT_RULES, CAMPAIGN_RULES, RULES_PER_LIST = 20, 30, 3  # 20 + 30 + 3 × 50 = 200 rules
PER_PAGE = 50
CHUNK = 100_000  # deliveries per transaction
DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "optintel-log-bench.db"
# Keys of this run: the bench stores no secret, and a PostgreSQL database needs keys given.
KEYS = {"SECRET_KEY": secrets.token_urlsafe(32), "OPTINTEL_ENCRYPTION_KEY": "",
        "OPTINTEL_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
ADMIN, OWNER, PASSWORD = "bench-admin@example.com", "bench-owner@example.com", "bench-log-pw"
ACTIONS = [(ActionType.PING_URL, 60), (ActionType.SMTP, 15), (ActionType.SLACK, 10),
           (ActionType.ADD_TO_LIST, 10), (ActionType.REMOVE_FROM_LIST, 5)]


def say(message):
    print(message, file=sys.stderr, flush=True)


# ---- Filling ---------------------------------------------------------------------------------

def migrate(database_url):
    """An empty database with the schema of `flask db upgrade`."""
    if database_url.startswith("sqlite:///"):
        Path(database_url[len("sqlite:///"):]).unlink(missing_ok=True)
    else:
        engine = sa.create_engine(sqlalchemy_url(database_url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    env = dict(os.environ, DATABASE_URL=database_url, FLASK_APP="app.py", **KEYS)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def weighted(rng, choices):
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def rule_settings(action, n):
    """(action settings, host) of a plausible rule."""
    if action == ActionType.PING_URL:
        host = f"hooks-{n % 25}.example.net"
        return {"method": "POST", "url": f"https://{host}/opt-out", "content_type": "json",
                "body": '{"md5": "{{contact_md5}}"}', "timeout": 10, "headers": {}}, host
    if action == ActionType.SMTP:
        return {"connection": "default", "to": "ops@example.com", "subject": "Opt-out",
                "body": "{{contact}}"}, "smtp.example.com"
    if action == ActionType.SLACK:
        return {"text": "Opt-out {{contact_md5}}"}, "hooks.slack.com"
    return {"list_id": None}, ""


def small_world(rng):
    """Users, mailers, lists, campaigns and rules, through the models."""
    admin = User(email=ADMIN, name="Bench Admin", role=Role.GLOBAL_ADMIN)
    owner = User(email=OWNER, name="Bench Owner", role=Role.LIST_OWNER)
    for user in (admin, owner):
        user.set_password(PASSWORD)
    mailers = [Mailer(company_name=f"Mailer {i}", nickname=f"mailer{i}",
                      email=f"ops{i}@mailer.example") for i in range(MAILERS)]
    lists = [OptOutList(channel=Channel.EMAIL if i < EMAIL_LISTS else Channel.PHONE,
                        name=f"List {i}", storage=Storage.MD5 if i < MD5_LISTS else
                        Storage.PLAIN_MD5, owner=owner if i in (10, 45) else None)
             for i in range(LISTS)]
    campaigns = []
    for i in range(EMAIL_CAMPAIGNS + SMS_CAMPAIGNS):
        channel = Channel.EMAIL if i < EMAIL_CAMPAIGNS else Channel.PHONE
        campaign = Campaign(channel=channel, name=f"Campaign {i}")
        campaign.mailers = rng.sample(mailers, 2)
        campaign.opt_out_lists = rng.sample([x for x in lists if x.channel == channel], 3)
        campaigns.append(campaign)
    db.session.add_all([admin, owner, *mailers, *lists, *campaigns])
    db.session.flush()
    scopes = [(Level.PROJECT, None)] * PROJECT_RULES + \
        [(Level.of_campaign(c.channel), c.id) for c in (campaigns * 2)[:CAMPAIGN_RULES]] + \
        [(Level.of_list(x.channel), x.id) for x in lists for _ in range(RULES_PER_LIST)]
    rules = []
    for n, (level, scope_id) in enumerate(scopes):
        action = weighted(rng, ACTIONS)
        settings, host = rule_settings(action, n)
        rules.append(TrackingRule(
            level=level, scope_id=scope_id, action=action, action_settings=settings, host=host,
            trigger=Trigger.CONTACT_ADDED if rng.random() < 0.7 else Trigger.CONTACT_DELETED,
            trigger_settings={name: [] for name in level.trigger_settings}))
    db.session.add_all(rules)
    db.session.commit()
    return lists, campaigns, rules


def candidates(lists, campaigns, rules):
    """{(list id, trigger): ([list rules], [project rules], [campaign rules])} that fire."""
    out = {}
    for x in lists:
        for trigger in Trigger:
            of = [r for r in rules if r.trigger == trigger]
            out[(x.id, trigger)] = (
                [r for r in of if r.level.is_list and r.scope_id == x.id],
                [r for r in of if r.level == Level.PROJECT],
                [r for r in of if r.level.is_campaign and
                 r.scope_id in {c.id for c in campaigns if x in c.opt_out_lists}])
    return out


def outcome(rng, age):
    """(status, attempts, last response status, next attempt in seconds or None) by age."""
    if age < timedelta(hours=1):
        status = weighted(rng, [("pending", 40), ("retrying", 10), ("succeeded", 45),
                                ("failed", 5)])
    elif age < timedelta(days=1):
        status = weighted(rng, [("retrying", 5), ("succeeded", 87), ("failed", 5),
                                ("skipped", 3)])
    else:
        status = weighted(rng, [("succeeded", 91), ("failed", 6), ("skipped", 3)])
    return {"pending": ("pending", 0, None, 0),
            "retrying": ("retrying", rng.randint(1, 3), 503, 300),
            "succeeded": ("succeeded", 1 if rng.random() < 0.9 else 2, 200, None),
            "failed": ("failed", 10, rng.choice([500, 503, 404, None]), None),
            "skipped": ("skipped", 0, None, None)}[status]


EVENT_COLUMNS = ("id", "trigger", "channel", "list_id", "contact", "contact_md5", "source",
                 "mailer_id", "campaign_id", "occurred_at", "depth", "dispatched_at")
DELIVERY_COLUMNS = ("id", "event_id", "rule_id", "action", "level", "scope_id", "trigger",
                    "channel", "list_id", "mailer_id", "campaign_id", "contact_md5", "host",
                    "status", "attempts", "next_attempt_at", "last_response_status", "note",
                    "created_at", "updated_at")
ATTEMPT_COLUMNS = ("delivery_id", "number", "started_at", "duration_ms", "succeeded", "request",
                   "response_status", "response_headers", "response_body", "error")


def generated(world, total, now, rng, stamp, as_json):
    """Chunks of (event rows, delivery rows, attempt rows), oldest first, ids rising with time:
    each event fires 1 to 3 of the rules that match it."""
    lists, campaigns, rules = world
    fire = candidates(lists, campaigns, rules)
    campaigns_of = {x.id: [c for c in campaigns if x in c.opt_out_lists] for x in lists}
    start, span = now - timedelta(days=DAYS), timedelta(days=DAYS).total_seconds()
    events, deliveries, attempts = [], [], []
    event_id = delivery_id = 0
    while delivery_id < total:
        at = start + timedelta(seconds=span * delivery_id / total)
        x = rng.choice(lists)
        trigger = Trigger.CONTACT_ADDED if rng.random() < 0.8 else Trigger.CONTACT_DELETED
        list_rules, project_rules, campaign_rules = fire[(x.id, trigger)]
        chosen = [rng.choice(group) for group, p in ((list_rules, 0.7), (project_rules, 0.6),
                                                     (campaign_rules, 0.4))
                  if group and rng.random() < p] or [rng.choice(project_rules)]
        n = rng.randrange(10_000_000)
        contact = f"user{n}@example{n % 97}.com" if x.channel == Channel.EMAIL else \
            f"+1415{n:07d}"
        md5 = hashlib.md5(contact.encode()).hexdigest()
        campaign = rng.choice(campaigns_of[x.id]) if campaigns_of[x.id] and \
            rng.random() < 0.5 else None
        mailer_id = rng.choice(campaign.mailers).id if campaign else None
        event_id += 1
        events.append((event_id, trigger.value, x.channel.value, x.id,
                       None if x.storage == Storage.MD5 else contact, md5, "api", mailer_id,
                       campaign.id if campaign else None, stamp(at), 0, stamp(at)))
        for rule in chosen[:total - delivery_id]:
            delivery_id += 1
            status, tries, response, retry_in = outcome(rng, now - at)
            done = at + timedelta(seconds=rng.randint(1, 60))
            deliveries.append((
                delivery_id, event_id, rule.id, rule.action.value, rule.level.value,
                rule.scope_id, trigger.value, x.channel.value, x.id, mailer_id,
                campaign.id if campaign else None, md5, rule.host, status, tries,
                stamp(done + timedelta(seconds=retry_in)) if retry_in is not None else None,
                response, "", stamp(at), stamp(done)))
            if tries:
                attempts.append((delivery_id, tries, stamp(done), rng.randint(20, 900),
                                 status == "succeeded",
                                 as_json({"method": "POST", "url": f"https://{rule.host}/opt-out",
                                          "headers": {"Content-Type": "application/json"},
                                          "body": json.dumps({"md5": md5})}),
                                 response, as_json({"Content-Type": "text/plain"}),
                                 "ok" if response == 200 else "",
                                 "" if response else "Connection refused"))
        if len(deliveries) >= CHUNK or delivery_id >= total:
            yield events, deliveries, attempts
            events, deliveries, attempts = [], [], []


def insert_rows(conn, table, columns, rows):
    """executemany of plain tuples: the driver's own bulk path, no ORM on the way."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(f'"{column}"' for column in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES "
                         f"({', '.join([marker] * len(columns))})", rows)


def fill(app, total, seed=5):
    """The whole data set; returns how long it took."""
    started, rng = time.perf_counter(), random.Random(seed)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with app.app_context():
        world = small_world(rng)
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            def stamp(moment):
                return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
            as_json = json.dumps
        else:
            from psycopg.types.json import Json

            def stamp(moment):
                return moment
            as_json = Json
        done = 0
        with engine.connect() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.commit()
            for events, deliveries, attempts in generated(world, total, now, rng, stamp, as_json):
                with conn.begin():
                    insert_rows(conn, "events", EVENT_COLUMNS, events)
                    insert_rows(conn, "deliveries", DELIVERY_COLUMNS, deliveries)
                    insert_rows(conn, "attempts", ATTEMPT_COLUMNS, attempts)
                done += len(deliveries)
                say(f"  {done:,} deliveries ({time.perf_counter() - started:.0f} s)")
            with conn.begin():
                conn.execute(counts_from_deliveries(sqlite))
                conn.execute(event_counts_from_events(sqlite))
                if not sqlite:
                    for table in ("events", "deliveries", "attempts"):
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
        if not sqlite:
            # What autovacuum does after a bulk load: statistics and the visibility map.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def counts_from_deliveries(sqlite):
    """INSERT INTO delivery_counts SELECT ... GROUP BY hour, rule and status."""
    table, counts = Delivery.__table__, DeliveryCount.__table__
    # Stored as the ORM stores a timestamp on each database, so that later counts meet these.
    hour = sa.func.strftime("%Y-%m-%d %H:00:00.000000", table.c.created_at) if sqlite else \
        sa.func.date_trunc("hour", table.c.created_at)
    keys = [table.c[name] for name in ("rule_id", "level", "scope_id", "trigger", "action",
                                       "host", "status")]
    return sa.insert(counts).from_select(
        ["hour", *[k.name for k in keys], "count"],
        sa.select(hour, *keys, sa.func.count()).group_by(hour, *keys))


def event_counts_from_events(sqlite):
    """INSERT INTO event_counts SELECT ... GROUP BY day, list, campaign and trigger."""
    table, counts = Event.__table__, EventCount.__table__
    day = sa.func.strftime("%Y-%m-%d 00:00:00.000000", table.c.occurred_at) if sqlite else \
        sa.func.date_trunc("day", table.c.occurred_at)
    keys = [table.c.list_id, sa.func.coalesce(table.c.campaign_id, 0), table.c.channel,
            table.c.trigger]
    return sa.insert(counts).from_select(
        ["day", "list_id", "campaign_id", "channel", "trigger", "count"],
        sa.select(day, *keys, sa.func.count()).group_by(day, *keys))


def filled(database_url):
    """Whether the database already holds deliveries."""
    engine = sa.create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.select(Delivery.id).limit(1)) is not None
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


# ---- Timing ----------------------------------------------------------------------------------

def median_ms(call, runs=RUNS):
    """(wall ms, this process's CPU ms) of `call`, the medians of `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def login(app, email):
    client = app.test_client()
    page = client.get("/login", follow_redirects=True).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 302, "could not log in"
    return client


def api_key(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        row, key = ApiKey.issue(user, "log bench")
        db.session.add(row)
        db.session.commit()
    return {"Authorization": f"Bearer {key}"}


class Timer:
    """The figures of one run: rows of (case, where, (wall ms, CPU ms) or None, note, has a
    target)."""

    def __init__(self, app):
        self.app, self.rows = app, []
        self.page = login(app, ADMIN)
        self.owner_page = login(app, OWNER)
        self.api = app.test_client()
        self.admin_key, self.owner_key = api_key(app, ADMIN), api_key(app, OWNER)

    def get(self, client, url, headers=None):
        response = client.get(url, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    def request(self, case, where, client, url, headers=None, target=True):
        try:
            self.get(client, url, headers)  # warm, and checked
        except RuntimeError as exc:
            self.rows.append((case, where, None, str(exc), target))
            return
        figures = median_ms(lambda: self.get(client, url, headers))
        self.rows.append((case, where, figures, url, target))

    def log_page(self, case, url):
        self.request(case, "page", self.page, url)

    def api_page(self, case, query="", headers=None, target=True):
        url = f"{API_PAGE}&{query}" if query else API_PAGE
        self.request(case, "API", self.api, url, headers or self.admin_key, target)

    def fiftieth_page(self):
        """Follows the page's "next" link 49 times."""
        url = "/logs/"
        for _ in range(49):
            found = NEXT_LINK.search(self.get(self.page, url).get_data(as_text=True))
            if not found:
                self.rows.append(("50th page", "page", None, f"no next link on {url}", True))
                return
            url = html.unescape(found.group(1))
        self.log_page("50th page", url)

    def fiftieth_api_page(self):
        """Follows next_after_id 49 times."""
        url = API_PAGE
        for _ in range(49):
            after = self.get(self.api, url, self.admin_key).json["next_after_id"]
            url = f"{API_PAGE}&after_id={after}"
        self.request("50th page", "API", self.api, url, self.admin_key)

    def chart(self, case, log_filter, target=True):
        with self.app.app_context():
            admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
            figures = median_ms(lambda: chart(admin, log_filter))
        self.rows.append((case, "chart()", figures, str(log_filter.args() or "default range"),
                          target))


API_PAGE = f"/api/v1/tracking-log?limit={PER_PAGE}"
# The "next" (older) link of the log page: keyset by ?after=<id>.
NEXT_LINK = re.compile(r'href="([^"]*[?&](?:amp;)?after=\d+[^"]*)"')


def measure(app):
    timer = Timer(app)
    with app.app_context():
        some_list = db.session.scalar(sa.select(OptOutList.id).where(
            OptOutList.channel == Channel.EMAIL, OptOutList.storage == Storage.PLAIN_MD5)
            .order_by(OptOutList.id).limit(1))
        someone = db.session.scalar(sa.select(Delivery.contact_md5).order_by(Delivery.id.desc())
                                    .limit(1).offset(5000))
    filtered = f"status=failed&list_id={some_list}"
    today = datetime.now(timezone.utc).date()
    month = dict(date_from=today - timedelta(days=DAYS - 1), date_to=today)
    timer.log_page("first page", "/logs/")
    timer.api_page("first page")
    timer.log_page("filtered page", f"/logs/?{filtered}")
    timer.api_page("filtered page", filtered)
    timer.fiftieth_page()
    timer.fiftieth_api_page()
    timer.chart("chart, default range", LogFilter())
    timer.chart("chart, 30 days", LogFilter(**month))
    timer.log_page("home page", "/")
    timer.request("home page, a List Owner", "page", timer.owner_page, "/")
    # For reference, without a target: other plans the same screens take.
    day = (today - timedelta(days=DAYS - 2)).isoformat()
    timer.api_page("(ref) one day 4 weeks ago", f"date_from={day}&date_to={day}", target=False)
    timer.api_page("(ref) one contact", f"contact={someone}", target=False)
    timer.api_page("(ref) a List Owner's page", headers=timer.owner_key, target=False)
    timer.chart("(ref) chart, 30 days, a list", LogFilter(list_id=some_list, **month),
                target=False)
    return timer.rows


def report(rows, database, total, fill_seconds):
    print(f"Tracking Log, {total:,} deliveries over {DAYS} days, 200 rules, {LISTS} lists, on "
          f"{database}; server time in process, median of {RUNS}"
          + (f"; filled in {fill_seconds:.0f} s" if fill_seconds else ""))
    print(f"  {'':<29}{'':<8} time ms  <{TARGET_MS}  CPU ms  (API: GET /api/v1/tracking-log; "
          "CPU: this process's, without PostgreSQL's own)")
    for case, where, ms, note, target in rows:
        if ms is None:
            print(f"  {case:<29}{where:<8}     n/a         {note}")
            continue
        verdict = ("yes" if ms[0] < TARGET_MS else "NO") if target else ""
        print(f"  {case:<29}{where:<8}{ms[0]:8.1f}  {verdict:<4} {ms[1]:7.1f}  {note}")
    missed = [f"{case} ({where})" for case, where, ms, _, target in rows
              if target and ms is not None and ms[0] >= TARGET_MS]
    print(f"Under {TARGET_MS} ms: {'every one' if not missed else 'NOT ' + ', '.join(missed)}. "
          f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="deliveries to fill the log with (default 1,000,000)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="a PostgreSQL database to fill (emptied first) "
                                              f"instead of the SQLite file {DEFAULT_SQLITE}")
    where.add_argument("--postgres", action="store_true",
                       help="start a throwaway PostgreSQL cluster and run there")
    parser.add_argument("--reuse", action="store_true",
                        help="skip filling when the database already holds deliveries")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cluster = ThrowawayPostgres(fsync=False).start() if args.postgres else None
    try:
        database_url = cluster.url if cluster else \
            args.database_url or f"sqlite:///{DEFAULT_SQLITE}"

        class BenchConfig(Config):
            SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database_url)
            REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing here needs Redis
            SECRET_KEY = KEYS["SECRET_KEY"]
            OPTINTEL_ENCRYPTION_KEYS, OPTINTEL_ENCRYPTION_KEY = KEYS["OPTINTEL_ENCRYPTION_KEYS"], None

        fill_seconds = None
        if not (args.reuse and filled(database_url)):
            say(f"Filling {database_url} with {args.deliveries:,} deliveries")
            migrate(database_url)
            fill_seconds = fill(create_app(BenchConfig), args.deliveries)
        app = create_app(BenchConfig)
        with app.app_context():
            total = db.session.scalar(sa.select(sa.func.max(Delivery.id)))
            name = db.engine.dialect.name
        say("Timing")
        rows = measure(app)
        report(rows, "SQLite" if name == "sqlite" else "PostgreSQL", total, fill_seconds)
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
