"""`make run` as a person runs it, in a folder of its own (database, keys, embedded Redis on free
ports): one worker pool sized to the machine; a pool process killed with SIGKILL is replaced
while the web server and Redis keep running; Ctrl-C (SIGINT to the process group) stops every
process within 30 s, cleanly, with the batch in hand finished or its leases released; and
it starts without a warning."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from optintel.models import Delivery
from tests.conftest import ROOT, Reply, free_port, wait_for
from tests.installs import default_env, flask
from tests.processes import alive, children, descendants

STARTUP = 180
STOP = 30


class Run:
    """`make run` started in a new session (its own process group, as a terminal's job is),
    its output in a log file."""

    def __init__(self, folder):
        self.folder, self.port = folder, free_port()
        self.env = default_env(folder, PORT=str(self.port), OPTINTEL_REDIS_PORT=str(free_port()),
                               OPTINTEL_ALLOW_PRIVATE_TARGETS="1")
        # A top-level make, as typed in a terminal, with the embedded Redis.
        for name in ("REDIS_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
            self.env.pop(name, None)
        # A terminal's output rather than a log: it prints the demo login on purpose (README),
        # which the suite's log check would take for a leak; `keep_log` keeps the rest for it.
        self.output = folder / "make-run.out"
        # Every process of the run seen so far: those that outlive make are found here.
        self.processes = set()
        # The shared virtual environment is not this test's to install into: a stamp newer
        # than requirements.txt tells make that it is ready.
        stamp = folder / "venv-ready"
        stamp.touch()
        # Ctrl-C as a terminal gives it to the job it starts, whatever this suite inherited: a
        # runner that starts it in the background (`cmd &` without job control) hands it SIGINT
        # ignored, which Python and then make would keep. A handled signal is reset to its
        # default in the child.
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with open(self.output, "ab") as out:
                self.proc = subprocess.Popen(["make", "run", f"STAMP={stamp}"], cwd=ROOT,
                                             env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        finally:
            signal.signal(signal.SIGINT, inherited)

    def text(self):
        return self.output.read_text(errors="replace")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def health(self):
        try:
            with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:
                return json.load(response)
        except OSError:
            return None

    def api(self, key, path, body):
        request = urllib.request.Request(self.url("/api/v1" + path), json.dumps(body).encode(),
                                         {"Authorization": f"Bearer {key}",
                                          "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def pid_of(self, process):
        return int(re.search(rf"{process} started \(pid=(\d+)\)", self.text()).group(1))

    def kill(self):
        """End whatever is left of the run, keep its log, and show its output (pytest prints
        it for a failed test)."""
        for pid in (self.processes | descendants(self.proc.pid)) - {self.proc.pid}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        text = self.text()
        (self.folder / "make-run.log").write_text("".join(
            line for line in text.splitlines(keepends=True) if not line.startswith("Demo login:")))
        print("---- make run ----\n" + text)


def test_make_run_heals_a_killed_worker_and_stops_cleanly_on_ctrl_c(tmp_path, http_sink):
    run = Run(tmp_path)
    try:
        cores = len(os.sched_getaffinity(0))
        wait_for(lambda: (run.health() or {}).get("workers") == cores, STARTUP, interval=0.5,
                 message="make run to serve, with one worker per core")
        # The demo data is seeded before Redis is up, and the workers start beside it: neither
        # is a cause for a warning.
        warnings = [line for line in run.text().splitlines()
                    if re.search(r"\bWARN(ING)?\b|Redis unavailable|undispatched", line)]
        assert warnings == []
        pool = run.pid_of("worker.1")
        workers = children(pool)
        assert len(workers) == cores

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: (pids := children(pool)) and len(pids) == cores and victim not in pids,
                 15, interval=0.2, message="the killed worker process to be replaced")
        health = run.health()
        assert (health["db"], health["redis"]) == ("ok", "ok")
        assert " stopped (rc=" not in run.text()

        # A batch in flight when Ctrl-C comes: its receiver answers only after two minutes.
        key = flask(run.env, "api-keys", "create", "admin@example.com").stdout.split()[-1]
        opt_out_list = run.api(key, "/email-lists", {"name": "Stopped mid-batch"})
        http_sink.script("/slow", *[Reply(delay=120)] * 3)
        # The list's own rule: the demo's events, dispatched meanwhile, do not reach it.
        run.api(key, "/tracking-rules", {
            "level": "email_list", "scope_id": opt_out_list["id"], "trigger": "contact_added",
            "action": "ping_url",
            "action_settings": {"method": "POST", "url": http_sink.url + "/slow",
                                "content_type": "json", "body": '{"email": "{{email}}"}'}})
        run.api(key, f"/email-lists/{opt_out_list['id']}/emails-add",
                {"emails": [f"ctrl-c{n}@example.com" for n in range(3)]})
        wait_for(lambda: len(http_sink.received("/slow")) == 3, 60, message="the batch in flight")

        run.processes = descendants(run.proc.pid) | {run.proc.pid}
        os.killpg(run.proc.pid, signal.SIGINT)
        interrupted = time.monotonic()
        wait_for(lambda: not any(alive(pid) for pid in run.processes), STOP, interval=0.2,
                 message="every process of make run to end")
        assert time.monotonic() - interrupted < STOP
        # make itself, interrupted, ends by the signal, as it should.
        assert run.proc.wait(5) == -signal.SIGINT
    finally:
        run.kill()

    output = run.text()
    assert "Traceback" not in output
    assert "make: ***" not in output
    assert dict(re.findall(r"(\S+) stopped \(rc=(-?\d+)\)", output)) == \
        {"web.1": "0", "worker.1": "0", "redis.1": "0"}
    # The batch in hand was released: nothing waits for a lease to run out.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'optintel.db'}")
    with Session(engine) as session:
        held = session.scalars(sa.select(Delivery)).all()
    engine.dispose()
    now = datetime.now(timezone.utc)
    assert len(held) == 3
    assert all(d.lease_until is None or d.lease_until <= now for d in held)
