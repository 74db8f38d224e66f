"""Helpers of the worker pool and run command tests: the processes of a tree, read from /proc."""
import os
from pathlib import Path


def _stat(pid):
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name, in parentheses, may hold spaces: the fields that matter follow it.
    state, ppid = text.rpartition(")")[2].split()[:2]
    return state, int(ppid)


def alive(pid):
    """Whether the process runs (a zombie, dead but not yet reaped, does not)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def children(pid):
    """The pids of the live processes whose parent is `pid`."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry))
    return found


def descendants(pid):
    """The pids of the live processes below `pid`, at every depth."""
    found, todo = set(), [pid]
    while todo:
        below = children(todo.pop())
        todo += below - found
        found |= below
    return found
