"""The per-host circuit breaker: with real workers, a host that refuses connections (a closed
port on 127.0.0.1) opens its breaker, its deliveries wait without being attempted, and they
succeed once a server listens on that port. Then the breaker's states on a real Redis: closed,
open with a cool-off that doubles up to its cap, one probe at a time, closed by an answer, and
forgotten (never in the way) when Redis loses it or is down."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from redis import Redis

from optintel.actions.base import Outcome
from optintel.deliveries.circuit_breaker import Breaker
from optintel.extensions import db
from optintel.models import Attempt, Delivery, DeliveryStatus, ProjectSettings
from optintel.queue import redis_connection

from conftest import free_port, fresh, wait_for

PATIENCE = 60


class LateServer:
    """An HTTP server started, when the test says so, on a port that refused connections until
    then; it answers 200 and counts what it received."""

    def __init__(self, port):
        self.port, self.received, self.server = port, [], None

    def start(self):
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def late_server():
    server = LateServer(free_port())
    yield server
    server.stop()


def deliveries():
    return fresh(sa.select(Delivery).order_by(Delivery.id))


def attempt_rows(delivery_id):
    return fresh(sa.select(Attempt).where(Attempt.delivery_id == delivery_id))


def test_a_host_that_refuses_connections_waits_on_its_breaker_and_succeeds_once_back(
        make_workers, api, make_list, make_rule, late_server):
    settings = ProjectSettings.get()
    settings.retry_schedule = ", ".join(["0"] + ["1"] * 19)
    db.session.commit()
    make_workers(OPTINTEL_DELIVERY_BATCH=1, OPTINTEL_BREAKER_FAILURES=2,
                 OPTINTEL_BREAKER_COOLOFF_SECONDS=1, OPTINTEL_BREAKER_MAX_COOLOFF_SECONDS=2
                 ).start(1)
    make_rule("ping_url", {"method": "POST", "url": f"http://127.0.0.1:{late_server.port}/hook",
                           "content_type": "json", "body": '{"email": "{{email}}"}'})
    emails = [f"wait{n}@example.com" for n in range(4)]
    response = api.post(f"/email-lists/{make_list().id}/emails-add", {"emails": emails})
    assert response.json["added"] == 4

    # Two refused connections open the breaker: the others wait, not attempted.
    def waiting():
        rows = deliveries()
        return [d for d in rows if d.attempts == 0 and d.note.startswith("Waiting:")] or None
    first_waiting = wait_for(waiting, PATIENCE, message="a delivery waiting on the breaker")[0]
    assert first_waiting.status == DeliveryStatus.PENDING
    assert "127.0.0.1 failed 2 times in a row" in first_waiting.note
    failed = [a for d in deliveries() for a in attempt_rows(d.id)]
    assert failed and all(not a.succeeded and a.response_status is None for a in failed)

    late_server.start()

    def succeeded():
        rows = deliveries()
        return rows if len(rows) == 4 and all(
            d.status == DeliveryStatus.SUCCEEDED for d in rows) else None
    rows = wait_for(succeeded, PATIENCE, message="every delivery to succeed")
    assert len(late_server.received) == 4
    for delivery in rows:
        attempts = attempt_rows(delivery.id)
        # The waits are no attempts: every attempt counted has its row, and only the refused
        # connections and the last one are there.
        assert delivery.attempts == len(attempts)
        assert sum(a.succeeded for a in attempts) == 1
    assert {d.id: d.attempts for d in rows}[first_waiting.id] == 1
    assert all(d.note == "" for d in rows)


# The breaker's states, on the real Redis -----------------------------------------------------

HOST = "hooks.example.com"


@pytest.fixture
def breaker(app):
    return Breaker(redis_connection(app), threshold=3, cooloff=30, max_cooloff=100)


def failure():
    return Outcome(False, error="ConnectionRefusedError: [Errno 111] Connection refused")


def answer(status):
    return Outcome(200 <= status < 300, response_status=status)


def test_a_run_of_failures_opens_the_breaker_for_its_cool_off(breaker):
    assert breaker.admit(HOST, now=1000).go
    breaker.observe(HOST, [failure(), failure()], now=1000)
    assert breaker.admit(HOST, now=1001).go
    breaker.observe(HOST, [failure()], now=1001)
    verdict = breaker.admit(HOST, now=1002)
    assert not verdict.go and verdict.until == 1031 and verdict.failures == 3
    assert breaker.admit("other.example.com", now=1002).go


def test_after_the_cool_off_one_probe_decides(breaker):
    breaker.observe(HOST, [failure()] * 3, now=1000)
    probe = breaker.admit(HOST, now=1030)
    assert probe.go and probe.probe
    waiting = breaker.admit(HOST, now=1030)
    assert not waiting.go and waiting.until == 1035
    # The probe failed: the cool-off doubles, then doubles again up to its cap.
    breaker.observe(HOST, [failure()], now=1031)
    assert breaker.admit(HOST, now=1031).until == 1091
    assert breaker.admit(HOST, now=1091).probe
    breaker.observe(HOST, [failure()], now=1092)
    assert breaker.admit(HOST, now=1092).until == 1192
    assert breaker.admit(HOST, now=1192).probe
    breaker.observe(HOST, [failure()], now=1193)
    assert breaker.admit(HOST, now=1193).until == 1293
    # The probe got an answer: closed, and the next run starts from the first cool-off.
    assert breaker.admit(HOST, now=1293).probe
    breaker.observe(HOST, [answer(200)], now=1294)
    assert breaker.admit(HOST, now=1294).go
    breaker.observe(HOST, [failure()] * 3, now=1300)
    assert breaker.admit(HOST, now=1300).until == 1330


@pytest.mark.parametrize("outcome, counts", [
    (answer(500), True), (answer(503), True), (Outcome(False, error="Timed out after 10 s."), True),
    (answer(404), False), (answer(410), False), (answer(200), False),
    (Outcome(False, error="Refused: loopback", permanent=True), False),
])
def test_what_counts_as_the_host_failing(breaker, outcome, counts):
    breaker.observe(HOST, [failure(), failure()], now=1000)
    breaker.observe(HOST, [outcome], now=1000)
    assert breaker.admit(HOST, now=1000).go is not counts


def test_an_answer_in_the_batch_starts_the_run_again(breaker):
    breaker.observe(HOST, [failure(), failure(), answer(200), failure(), failure()], now=1000)
    assert breaker.admit(HOST, now=1000).go


def test_losing_the_breakers_state_or_redis_lets_everything_through(app, breaker, redis_server):
    breaker.observe(HOST, [failure()] * 3, now=1000)
    assert not breaker.admit(HOST, now=1000).go
    Redis.from_url(redis_server.url).flushall()
    assert breaker.admit(HOST, now=1000).go
    away = Breaker(Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1,
                                  socket_connect_timeout=1), threshold=1, cooloff=30,
                   max_cooloff=100)
    away.observe(HOST, [failure()], now=1000)
    assert away.admit(HOST, now=1000).go


def test_a_breaker_with_a_threshold_of_0_is_off(app):
    off = Breaker(redis_connection(app), threshold=0, cooloff=30, max_cooloff=100)
    off.observe(HOST, [failure()] * 50, now=1000)
    assert off.admit(HOST, now=1000).go
