"""The benchmark's child processes: each in a process group of its own with its output in a log
file, stopped group by group, and told to die with the bench should the bench be killed."""
import ctypes
import os
from collections import Counter
import signal
import socket
import subprocess
import sys
import time

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

    def stop(self, procs, timeout=15):
        """SIGTERM to each process group, then SIGKILL to those still there after `timeout`."""
        for proc in procs:
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
            # After the command name: state, ppid, pgrp, ... utime (12th), stime (13th).
            if int(fields[2]) in self.kinds:
                seconds[self.kinds[int(fields[2])]] += (int(fields[11]) + int(fields[12])) / ticks
        return seconds

    def stop_all(self):
        self.stop(list(reversed(self.procs)))

    @staticmethod
    def _signal(proc, sig):
        try:
            os.killpg(proc.pid, sig)  # the group id is the child's pid: it leads its own session
        except ProcessLookupError:
            pass
