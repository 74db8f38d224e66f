"""The HTTP client of Ping URL and Slack against a raw target on 127.0.0.1 that answers with
exactly the bytes each test gives: how an answer is framed, when its connection is used again,
and what is refused before anything is sent."""
import asyncio

import pytest

from optintel.actions import http, http_connections, sending_loop
from optintel.actions.target_policy import TargetPolicy
from tests.conftest import tls_certificates

POLICY = TargetPolicy.from_settings(True, "")
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")


@pytest.fixture(autouse=True)
def fresh_pools(monkeypatch):
    """Each test's connections (and TLS trust) of their own, on the process's sending loop."""
    monkeypatch.setattr(http, "_pools", {})


class RawTarget:
    """Answers each request with the next (bytes, then) of its script: then is "keep" (wait
    for the next request), "close" (close the connection) or "stall" (send nothing more)."""

    def __init__(self, script):
        self.script, self.connections, self.requests = list(script), 0, []
        self.ended = 0  # connections ended, by either side

    @classmethod
    async def start(cls, *script, tls=None):
        target = cls(script)
        target.server = await asyncio.start_server(target._serve, "127.0.0.1", 0, ssl=tls)
        port = target.server.sockets[0].getsockname()[1]
        target.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        return target

    async def _serve(self, reader, writer):
        self.connections += 1
        try:
            while self.script:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                self.requests.append(head + await reader.readexactly(length))
                answer, then = self.script.pop(0)
                writer.write(answer)
                await writer.drain()
                if then == "close":
                    break
                if then == "stall":
                    await asyncio.sleep(30)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.ended += 1
            writer.close()


def exchanges(script, paths, tls=None, timeout=2, **request):
    """Start a RawTarget with `script`, POST to each path in turn on the sending loop, as an
    attempt does; (target, results)."""
    async def scenario():
        target = await RawTarget.start(*script, tls=tls)
        results = [await http.send_async(request.get("method", "POST"), target.url + path,
                                         request.get("headers", {}), request.get("body", "x"),
                                         timeout, POLICY)
                   for path in paths]
        target.server.close()
        return target, results
    return sending_loop.run(scenario())


def test_a_chunked_answer_is_read_whole_and_its_connection_used_again():
    target, (first, second) = exchanges([(CHUNKED, "keep"), (OK, "keep")], ["/a", "/b"])
    assert (first.status, first.body, first.error) == (201, "hello world", "")
    assert second.status == 200 and second.body == "ok"
    assert target.connections == 1 and len(target.requests) == 2


def test_an_answer_without_a_length_ends_with_its_connection_and_is_not_used_again():
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
    target, (first, second) = exchanges([(answer, "close"), (OK, "keep")], ["/a", "/b"])
    assert (first.status, first.body) == (200, "all of it")
    assert second.status == 200
    assert target.connections == 2


def test_a_length_the_connection_cuts_short_is_an_error():
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"
    _, (result,) = exchanges([(answer, "close")], ["/a"])
    assert result.status is None and result.error.startswith("ServerDisconnected")


def test_an_informational_answer_is_passed_over():
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    _, (result,) = exchanges([(answer, "keep")], ["/a"])
    assert (result.status, result.body) == (200, "ok")


def test_only_the_first_4_kb_of_a_long_body_is_kept_and_the_rest_is_read_past():
    body = b"a" * 5000 + b"b" * 5000
    answer = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    target, (first, second) = exchanges([(answer, "keep"), (OK, "keep")], ["/a", "/b"])
    assert first.status == 500 and first.body == "a" * http.BODY_EXCERPT
    assert second.status == 200 and target.connections == 1


def test_repeated_headers_are_joined_and_retry_after_is_read():
    answer = (b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nX-Tag: one\r\nx-tag: two\r\n"
              b"Content-Length: 0\r\n\r\n")
    _, (result,) = exchanges([(answer, "keep")], ["/a"])
    assert result.status == 429 and result.retry_after == 7.0
    assert result.headers["X-Tag"] == "one, two" and result.headers["Retry-After"] == "7"


def test_headers_past_the_limit_are_an_error_not_a_wait():
    answer = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * (http_connections.HEAD_LIMIT + 10)
    _, (result,) = exchanges([(answer, "stall")], ["/a"])
    assert result.status is None and "longer than" in result.error


def test_an_answer_that_is_not_http_is_an_error():
    _, (result,) = exchanges([(b"SMTP ready\r\n\r\n", "stall")], ["/a"])
    assert result.status is None and result.error.startswith("BadAnswer")


def test_a_connection_the_target_closed_while_idle_is_not_used_again():
    target, results = exchanges([(OK, "close"), (OK, "close")], ["/a", "/b"])
    assert [r.status for r in results] == [200, 200]
    assert target.connections == 2


def test_a_target_that_closes_without_answering_is_an_error():
    _, (result,) = exchanges([(b"", "close")], ["/a"])
    assert result.status is None and result.error.startswith("ServerDisconnected")


def test_a_timed_out_answer_leaves_its_connection_closed():
    half = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"
    target, (first, second) = exchanges([(half, "stall"), (OK, "keep")], ["/a", "/b"],
                                        timeout=0.3)
    assert first.error == "Timed out after 0.3 s." and first.status is None
    assert second.status == 200 and target.connections == 2


def test_the_request_is_framed_by_the_client_not_by_the_rule():
    headers = {"Content-Length": "999", "Transfer-Encoding": "chunked", "user-agent": "Mine/2",
               "X-Rule": "kept"}
    target, (result,) = exchanges([(OK, "keep")], ["/hook?a=%2F"], headers=headers,
                                  body="héllo")
    head, _, body = target.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert result.status == 200
    assert lines[0] == "POST /hook?a=%2F HTTP/1.1"
    assert lines[1].startswith("Host: 127.0.0.1:")
    assert sorted(lines[2:]) == ["Content-Length: 6", "X-Rule: kept", "user-agent: Mine/2"]
    assert body == "héllo".encode()


@pytest.mark.parametrize("path, headers, error", [
    ("/a", {"X-Rule": "a\r\nX-Injected: 1"}, "line break"),
    ("/a", {"X-Rule": "a\nX-Injected: 1"}, "line break"),
    ("/a HTTP/1.1\x0bX", {}, "control character"),
    ("/a b", {}, "space"),
])
def test_a_request_that_would_split_sends_nothing(path, headers, error):
    target, (result,) = exchanges([(OK, "keep")], [path], headers=headers)
    assert result.refused and error in result.error
    assert target.requests == [] and target.connections == 0


def test_an_idle_connection_is_closed_after_its_time(monkeypatch):
    monkeypatch.setattr(http_connections, "IDLE_SECONDS", 0.05)

    async def scenario():
        target = await RawTarget.start((OK, "keep"), (OK, "keep"))
        await http.send_async("GET", target.url + "/a", {}, "", 2, POLICY)
        await asyncio.sleep(0.3)
        await http.send_async("GET", target.url + "/b", {}, "", 2, POLICY)
        return target
    assert sending_loop.run(scenario()).connections == 2


def test_idle_connections_are_closed_without_another_request(monkeypatch):
    monkeypatch.setattr(http_connections, "IDLE_SECONDS", 0.05)

    async def scenario():
        target = await RawTarget.start(*[(OK, "keep")] * 4)
        await asyncio.gather(*(http.send_async("GET", target.url + "/a", {}, "", 2, POLICY)
                               for _ in range(2)))
        opened = target.connections
        await asyncio.sleep(0.3)
        return opened, target.ended
    assert sending_loop.run(scenario()) == (2, 2)


@pytest.mark.parametrize("named, trusted, outcome", [
    ("127.0.0.1", True, 200),
    ("127.0.0.1", False, "certificate verify failed"),
    ("elsewhere.test", True, "certificate verify failed"),
])
def test_a_tls_certificate_is_checked_against_the_url(tmp_path, monkeypatch, named, trusted,
                                                      outcome):
    ca_file, server = tls_certificates(tmp_path, named)
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    else:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    _, (result,) = exchanges([(OK, "keep")], ["/a"], tls=server)
    if outcome == 200:
        assert (result.status, result.body) == (200, "ok")
    else:
        assert result.status is None and outcome in result.error
