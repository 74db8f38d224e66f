"""The Celery peer of the benchmark, (c2): one Celery task per delivery that renders, signs and
POSTs it with `requests`, the way most Python teams send webhooks; Redis is the broker, and the
posts are the pipeline's (bench/ceiling.py SignedPosts, its settings as JSON in BENCH_POSTS).

    BENCH_CELERY_BROKER=redis://… BENCH_POSTS='{…}' celery -A celery_peer worker …
"""
import json
import os

import requests
from celery import Celery

from ceiling import SignedPosts

app = Celery("celery_peer", broker=os.environ["BENCH_CELERY_BROKER"])
app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)
posts = SignedPosts(**json.loads(os.environ["BENCH_POSTS"]))
_session = []


def session():
    """This process's keep-alive session, made after the pool's fork."""
    if not _session:
        _session.append(requests.Session())
    return _session[0]


@app.task(name="deliver", autoretry_for=(requests.RequestException,), retry_backoff=True,
          max_retries=10)
def deliver(n):
    """POST the n-th signed webhook; a connection error or a 4xx/5xx answer is retried."""
    path, body, headers = posts(n)
    response = session().post(f"http://127.0.0.1:{posts.port}{path}", data=body,
                              headers=headers, timeout=10, allow_redirects=False)
    response.raise_for_status()
