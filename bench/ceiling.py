"""The raw ceiling of the benchmark: the POSTs the pipeline sends (same paths, bodies, headers and
Standard Webhooks signatures), sent straight to the sink by plain clients: urllib3 from threads,
aiohttp, and keep-alive connections written by hand on asyncio."""
import asyncio
import hashlib
import itertools
import threading
import time
from datetime import datetime, timezone

import aiohttp
import urllib3

from optintel.actions.ping_url import CONTENT_TYPES, render_body, signature_headers


class SignedPosts:
    """The n-th POST of the workload: contact n // rules to rule n % rules, as the rules of the
    bench would render and sign it."""

    def __init__(self, port, secret, rule_ids, body_template, extra_headers, list_name):
        self.port, self.secret, self.rule_ids = port, secret, rule_ids
        self.body_template, self.extra_headers, self.list_name = (body_template, extra_headers,
                                                                  list_name)
        self.occurred_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def settings(self):
        """The arguments that make the same posts in another process (the Celery peer's)."""
        return {"port": self.port, "secret": self.secret, "rule_ids": self.rule_ids,
                "body_template": self.body_template, "extra_headers": self.extra_headers,
                "list_name": self.list_name}

    def __call__(self, n):
        """(path, body, headers) of the n-th POST."""
        contact, rule = divmod(n, len(self.rule_ids))
        email = f"bulk{contact}@example.com"
        values = {"event_id": str(contact + 1), "trigger": "contact_added", "email": email,
                  "contact_md5": hashlib.md5(email.encode()).hexdigest(),
                  "list_name": self.list_name, "source": "api", "occurred_at": self.occurred_at,
                  "rule_id": str(self.rule_ids[rule])}
        body = render_body("json", self.body_template, values)
        headers = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "Opt-Intel-Event-Tracking/1.0",
                   **self.extra_headers, "Content-Type": CONTENT_TYPES["json"],
                   **signature_headers(self.secret, n + 1, body)}
        return f"/hooks/{rule + 1}", body.encode(), headers


def with_threads(posts, total, threads):
    """Send `total` POSTs from a pool of threads over urllib3 keep-alive connections (the HTTP
    library of the workers); returns the seconds it took."""
    pool = urllib3.HTTPConnectionPool("127.0.0.1", posts.port, maxsize=threads, block=True)
    numbers, failures = itertools.count(), []

    def post_until_done():
        for n in iter(numbers.__next__, None):
            if n >= total:
                return
            path, body, headers = posts(n)
            response = pool.urlopen("POST", path, body=body, headers=headers, redirect=False,
                                    retries=False, timeout=10, preload_content=False)
            response.read(4096)
            response.drain_conn()
            response.release_conn()
            if response.status != 200:
                failures.append(response.status)

    workers = [threading.Thread(target=post_until_done) for _ in range(threads)]
    clock = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - clock
    pool.close()
    if failures:
        raise RuntimeError(f"The sink answered {len(failures)} POSTs with {failures[:5]}")
    return seconds


def with_aiohttp(posts, total, connections):
    """Send `total` POSTs from one aiohttp session over a keep-alive pool of `connections`
    connections; returns the seconds it took."""
    numbers, base = iter(range(total)), f"http://127.0.0.1:{posts.port}"

    async def post_until_done(session):
        for n in numbers:
            path, body, headers = posts(n)
            async with session.post(base + path, data=body, headers=headers,
                                    allow_redirects=False) as response:
                await response.content.read(4096)
                if response.status != 200:
                    raise RuntimeError(f"The sink answered {response.status}")

    async def send_all():
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=10)) as session:
            await asyncio.gather(*(post_until_done(session) for _ in range(connections)))

    clock = time.perf_counter()
    asyncio.run(send_all())
    return time.perf_counter() - clock


def with_asyncio(posts, total, connections):
    """Send `total` POSTs over keep-alive connections written by hand on asyncio (no HTTP
    library); returns the seconds it took."""
    numbers = iter(range(total))

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", posts.port)
        for n in numbers:
            path, body, headers = posts(n)
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            writer.write(f"POST {path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                         .encode() + body)
            answer = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            if not answer.startswith("HTTP/1.1 200"):
                raise RuntimeError(f"The sink answered {answer.splitlines()[0]}")
            length = next(int(line.split(":", 1)[1]) for line in answer.split("\r\n")
                          if line.lower().startswith("content-length:"))
            await reader.readexactly(length)
        writer.close()
        await writer.wait_closed()

    async def send_all():
        await asyncio.gather(*(connection() for _ in range(connections)))

    clock = time.perf_counter()
    asyncio.run(send_all())
    return time.perf_counter() - clock
