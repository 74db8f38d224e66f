"""The per-host circuit breaker: after a run of connection failures, timeouts or 5xx answers from
one host (a delivery's `host`), its deliveries wait out a cool-off that doubles up to a cap, and
then one probe decides whether the host is back. A delivery that waits is not attempted: no
attempt is recorded, its attempts are not counted, it comes back when the cool-off ends
(next_attempt_at, picked up by the reconciler). The state is in Redis, shared by every worker;
losing it (Redis flushed or away) only closes the breakers, the deliveries are in the database."""
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from redis.exceptions import RedisError

from .. import actions
from ..models import Delivery
from ..queue import redis_connection
from ..sql import update_by_id

log = logging.getLogger(__name__)
KEY = "optintel:breaker:{host}"
PROBE_KEY = "optintel:breaker:{host}:probe"
# A probe holds its host this long at most (an attempt takes 30 s at most); the others ask
# again after PROBE_WAIT.
PROBE_MS = 60_000
PROBE_WAIT = 5
EPOCH = datetime.fromtimestamp(0, timezone.utc)
# The Breaker last made, and what it was made of (its Redis client and settings).
_made = {"of": None, "breaker": None}

# KEYS: state, probe. ARGV: now (ms). Returns {0} closed, {1} the probe, {2, until ms, failures}.
ADMIT = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if open_until == 0 then return {0} end
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local now = tonumber(ARGV[1])
if now < open_until then return {2, open_until, failures} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {1} end
return {2, now + tonumber(ARGV[3]), failures}
"""
# KEYS: state, probe. ARGV: failures, threshold, cool-off, cap (ms), now (ms), expiry (s).
# Opens the breaker (again, with the cool-off doubled) when the run is long enough and it is
# not open already.
FAILED = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', ARGV[1])
local now = tonumber(ARGV[5])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if failures >= tonumber(ARGV[2]) and open_until <= now then
  local cooloff = tonumber(redis.call('HGET', KEYS[1], 'cooloff') or '0')
  if cooloff == 0 then cooloff = tonumber(ARGV[3]) else cooloff = math.min(cooloff * 2, tonumber(ARGV[4])) end
  redis.call('HSET', KEYS[1], 'cooloff', cooloff, 'open_until', now + cooloff)
  redis.call('DEL', KEYS[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return failures
"""


@dataclass
class Verdict:
    """Whether a delivery to the host may be attempted now, and if not until when it waits."""

    go: bool
    probe: bool = False
    until: float | None = None  # seconds since the epoch
    failures: int = 0


CLOSED = Verdict(True)


def host_failed(outcome, http=True):
    """Whether an attempt's outcome says the host is failing: no answer (a refused connection,
    a timeout), or a 5xx answer of an HTTP server. Refused targets and chain stops say
    nothing of the host."""
    if outcome.permanent or outcome.skipped or outcome.succeeded:
        return False
    if outcome.response_status is None:
        return True
    return http and outcome.response_status >= 500


class Breaker:
    """The breakers of every host, in Redis; a threshold of 0 turns them off."""

    def __init__(self, redis, threshold, cooloff, max_cooloff):
        self.redis, self.threshold = redis, threshold
        self.cooloff_ms, self.max_ms = int(cooloff * 1000), int(max_cooloff * 1000)
        self.probe_wait = min(PROBE_WAIT, cooloff)
        self._admit = redis.register_script(ADMIT)
        self._failed = redis.register_script(FAILED)

    def admit(self, host, now=None):
        """The Verdict for one delivery to the host: closed, the one probe, or wait."""
        if not self.threshold or not host:
            return CLOSED
        now_ms = int((time.time() if now is None else now) * 1000)
        try:
            answer = self._admit(keys=self._keys(host),
                                 args=[now_ms, PROBE_MS, int(self.probe_wait * 1000)])
        except RedisError as exc:
            log.warning("Circuit breakers unavailable, %s is attempted: %s", host, exc)
            return CLOSED
        if answer[0] == 0:
            return CLOSED
        if answer[0] == 1:
            return Verdict(True, probe=True)
        return Verdict(False, until=int(answer[1]) / 1000, failures=int(answer[2]))

    def observe(self, host, outcomes, http=True, now=None):
        """Feed the outcomes of attempts to the host, in the order they were made: an answer
        closes its breaker, the failures after the last answer lengthen its run."""
        if not self.threshold or not host or not outcomes:
            return
        run, answered = 0, False
        for outcome in outcomes:
            if host_failed(outcome, http):
                run += 1
            elif not (outcome.permanent or outcome.skipped):
                run, answered = 0, True
        now_ms = int((time.time() if now is None else now) * 1000)
        state, probe = self._keys(host)
        try:
            if answered:
                self.redis.delete(state, probe)
            if run:
                self._failed(keys=[state, probe],
                             args=[run, self.threshold, self.cooloff_ms, self.max_ms, now_ms,
                                   2 * self.max_ms // 1000 + 60])
        except RedisError as exc:
            log.warning("Circuit breakers unavailable, %s not recorded: %s", host, exc)

    @staticmethod
    def _keys(host):
        return [KEY.format(host=host), PROBE_KEY.format(host=host)]


def breaker():
    """The Breaker of the app's Redis and settings, made again only when they change."""
    config = current_app.config
    made = (redis_connection(), config["OPTINTEL_BREAKER_FAILURES"],
            config["OPTINTEL_BREAKER_COOLOFF_SECONDS"],
            config["OPTINTEL_BREAKER_MAX_COOLOFF_SECONDS"])
    if _made["of"] is None or _made["of"][0] is not made[0] or _made["of"][1:] != made[1:]:
        _made.update(of=made, breaker=Breaker(*made))
    return _made["breaker"]


def admit(jobs):
    """Split a batch's (delivery, action, work) jobs into those attempted now and the
    (delivery, Verdict) pairs that wait; one probe at most per host."""
    breakers, verdicts, admitted, waiting = breaker(), {}, [], []
    for job in jobs:
        host = job[0].host
        verdict = verdicts.get(host)
        if verdict is None:
            verdict = verdicts[host] = breakers.admit(host)
        elif verdict.probe:
            # The probe is taken by the first delivery; the others wait for what it finds.
            verdict = Verdict(False, until=time.time() + breakers.probe_wait,
                              failures=breakers.threshold)
        if verdict.go:
            admitted.append(job)
        else:
            waiting.append((job[0], verdict))
    return admitted, waiting


def observe(outcomes):
    """Feed a batch's (delivery, Outcome) pairs to the breakers of their hosts."""
    by_host = {}
    for delivery, outcome in sorted(outcomes, key=lambda pair: pair[1].started_at or EPOCH):
        # Only an HTTP server's 5xx says its host fails (host_failed); HTTP is what the actions
        # on the sending loop send.
        over_http = actions.get(delivery.action).on_sending_loop
        by_host.setdefault((delivery.host, over_http), []).append(outcome)
    breakers = breaker()
    for (host, http), host_outcomes in by_host.items():
        breakers.observe(host, host_outcomes, http)


def postpone(waiting):
    """Give the waiting deliveries back, due when their host's cool-off ends, in the caller's
    transaction: their status stays, their lease is let go and the count of their claim given
    back."""
    if not waiting:
        return
    update_by_id(Delivery.__table__, [{
        "id": delivery.id, "lease_until": None, "attempts": delivery.attempts - 1,
        "next_attempt_at": datetime.fromtimestamp(verdict.until, timezone.utc),
        "note": (f"Waiting: {delivery.host} failed {verdict.failures} times in a row; it is "
                 f"tried again from "
                 f"{datetime.fromtimestamp(verdict.until, timezone.utc):%H:%M:%S} UTC.")[:500]}
        for delivery, verdict in waiting])
