"""What the benchmarks share: their child processes (each in a process group of its own with its
output in a log file, stopped group by group, and told to die with the bench should the bench be
killed), a throwaway PostgreSQL cluster, and database URLs as SQLAlchemy wants them."""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PR_SET_PDEATHSIG = 1


def free_port():
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the child, before exec: SIGTERM when the bench dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_until(predicate, timeout, what, interval=0.05):
    """Poll until predicate() is truthy; RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"Timed out after {timeout} s waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Children:
    """The processes the bench started; stop_all() ends every one of them."""

    def __init__(self, log_dir):
        self.log_dir, self.procs, self.started, self.kinds = log_dir, [], [], {}
        # Servers started otherwise (PostgreSQL's postmaster) whose CPU counts too: {pid: kind}.
        self.servers = {}

    def watch(self, pid, kind):
        """Count the CPU of a server this bench did not start as a child: the process, the
        children it has reaped and those running (each of which leads its own session)."""
        self.servers[pid] = kind

    def start(self, name, argv, kind=None, **popen):
        """Start a process, logging to `name`.log; its CPU time counts under `kind` (or name)."""
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_die_with_parent, **popen)
        self.procs.append(proc)
        self.started.append(proc.pid)
        self.kinds[proc.pid] = kind or name
        return proc

    def stop(self, procs, timeout=15, leader_only=False):
        """SIGTERM to each process group (or, leader_only, to the process that leads it: a
        supervisor that stops its own children), then SIGKILL to the groups after `timeout` or
        once their leaders ended."""
        for proc in procs:
            if leader_only:
                proc.send_signal(signal.SIGTERM)
            else:
                self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(5)
            # A group's other members (gunicorn's workers) go with it.
            self._signal(proc, signal.SIGKILL)
            if proc in self.procs:
                self.procs.remove(proc)

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the running processes of the groups started
        here, by kind, and by this process ("bench"); None where /proc is not there."""
        ticks, own = os.sysconf("SC_CLK_TCK"), os.times()
        seconds = Counter(bench=own.user + own.system)
        try:
            entries = os.listdir("/proc")
        except FileNotFoundError:
            return None
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            # After the command name: state, ppid, pgrp, ... utime (12th), stime (13th), then
            # the same of the children it waited for.
            own_ticks = int(fields[11]) + int(fields[12])
            pid, ppid, pgrp = int(entry), int(fields[1]), int(fields[2])
            if pgrp in self.kinds:
                seconds[self.kinds[pgrp]] += own_ticks / ticks
            elif pid in self.servers:
                seconds[self.servers[pid]] += (own_ticks + int(fields[13]) + int(fields[14])) / ticks
            elif ppid in self.servers:
                seconds[self.servers[ppid]] += own_ticks / ticks
        return seconds

    def stop_all(self):
        self.stop(list(reversed(self.procs)))

    @staticmethod
    def _signal(proc, sig):
        try:
            os.killpg(proc.pid, sig)  # the group id is the child's pid: it leads its own session
        except ProcessLookupError:
            pass


class ThrowawayPostgres:
    """initdb + pg_ctl in a temporary directory (as the postgres user when run as root), as
    .ci/run starts one; fsync=False trades durability for the speed of a bulk fill."""

    def __init__(self, fsync=True):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)])
        if not bins:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql).")
        self.bin, self.port, self.fsync = bins[-1], free_port(), fsync
        self.dir = Path(tempfile.mkdtemp(prefix="optintel-bench-pg-"))
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/optintel_bench"

    def _run(self, *argv):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*prefix, str(self.bin / argv[0]), *argv[1:]], check=True,
                       stdout=subprocess.DEVNULL)

    def start(self):
        """Create the cluster and its database optintel_bench; returns self."""
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", f"{self.dir}/data", "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-locale")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1" + \
            ("" if self.fsync else " -c fsync=off")
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log", "-w",
                  "start", "-o", options)
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "optintel_bench")
        return self

    def server_pid(self):
        """The pid of the cluster's postmaster."""
        return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self):
        """Stop the cluster and remove its directory."""
        try:
            self._run("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
