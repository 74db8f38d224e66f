"""Which asyncio HTTP client the workers send with: the bench's signed POSTs (bench/ceiling.py)
to the sink on 127.0.0.1, sent the way an attempt sends them (keep-alive pool, no redirects, a
timeout, the first 4 KB of the answer read), by the workers' own client (optintel.actions.http,
with the target check), by aiohttp and by httpx, beside the bare asyncio client as the
ceiling. Prints POSTs per second and this process's CPU per POST for each, best of
--rounds; a client that is not installed is left out.

    .venv/bin/python bench/http_clients.py [--posts 20000] [--connections 32] [--rounds 3]
"""
import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ceiling import SignedPosts, with_asyncio  # noqa: E402
from processes import Children, free_port, port_open, wait_until  # noqa: E402

BODY = ('{"event_id": "{{event_id}}", "trigger": "{{trigger}}", "email": "{{email}}", '
        '"contact_md5": "{{contact_md5}}", "list": "{{list_name}}", "source": "{{source}}", '
        '"occurred_at": "{{occurred_at}}", "rule_id": "{{rule_id}}"}')
EXCERPT = 4096


async def _each(posts, total, connections, send):
    """Run `send(path, body, headers)` for every POST, `connections` at a time."""
    numbers = iter(range(total))

    async def sender():
        for n in numbers:
            status = await send(*posts(n))
            if status != 200:
                raise RuntimeError(f"The sink answered {status}")

    await asyncio.gather(*(sender() for _ in range(connections)))


def with_optintel(posts, total, connections):
    from optintel.actions import http
    from optintel.actions.target_policy import TargetPolicy
    policy, base = TargetPolicy.from_settings(True, ""), f"http://127.0.0.1:{posts.port}"

    async def send(path, body, headers):
        result = await http.send_async("POST", base + path, headers, body.decode(), 10, policy)
        return result.status
    asyncio.run(_each(posts, total, connections, send))


def with_aiohttp(posts, total, connections):
    import aiohttp

    async def run():
        connector = aiohttp.TCPConnector(limit=connections, use_dns_cache=False)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
            base = f"http://127.0.0.1:{posts.port}"

            async def send(path, body, headers):
                async with session.post(base + path, data=body, headers=headers,
                                        allow_redirects=False, timeout=timeout) as response:
                    await response.content.read(EXCERPT)
                    await response.read()
                    return response.status
            await _each(posts, total, connections, send)
    asyncio.run(run())


def with_httpx(posts, total, connections):
    import httpx

    async def run():
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10, follow_redirects=False,
                                     trust_env=False) as client:
            base = f"http://127.0.0.1:{posts.port}"

            async def send(path, body, headers):
                async with client.stream("POST", base + path, content=body,
                                         headers=headers) as response:
                    async for _ in response.aiter_bytes(EXCERPT):
                        pass
                    return response.status_code
            await _each(posts, total, connections, send)
    asyncio.run(run())


def bare(posts, total, connections):
    with_asyncio(posts, total, connections)


def measured(client, posts, total, connections):
    """(POSTs a second, ms of CPU a POST) of one round."""
    clock, cpu = time.perf_counter(), time.process_time()
    client(posts, total, connections)
    return total / (time.perf_counter() - clock), (time.process_time() - cpu) * 1000 / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    children = Children(Path(tempfile.mkdtemp(prefix="optintel-http-clients-")))
    port = free_port()
    children.start("sink", [sys.executable, str(Path(__file__).with_name("sink.py")),
                            "--port", str(port)])
    try:
        wait_until(lambda: port_open(port), 20, "the sink")
        secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        posts = SignedPosts(port, secret, [1, 2, 3], BODY, {"X-Bench-Source": "opt-intel"},
                            "Bench")
        clients = {"bare asyncio": bare, "opt-intel": with_optintel, "aiohttp": with_aiohttp,
                   "httpx": with_httpx}
        for name, client in clients.items():
            try:
                results = [measured(client, posts, args.posts, args.connections)
                           for _ in range(args.rounds)]
            except ImportError as exc:
                print(f"{name:>13}: not installed ({exc})")
                continue
            rate, cpu = max(results)
            print(f"{name:>13}: {rate:8,.0f} POSTs/s, {cpu:.3f} ms CPU a POST "
                  f"(best of {args.rounds}: {', '.join(f'{r:,.0f}' for r, _ in results)})")
    finally:
        children.stop_all()


if __name__ == "__main__":
    main()
