"""When the next attempt of a failed delivery happens, if any."""
import random
from datetime import timedelta

MAX_DELAY = 24 * 3600


def next_attempt_at(attempts_done, delays, retry_after, now):
    """The time of the next attempt after `attempts_done` attempts, or None when the schedule
    is spent. `delays` are the seconds before each attempt (the first is the first try);
    jitter spreads retries by up to 10 %; a Retry-After answer is honoured when longer."""
    if attempts_done >= len(delays):
        return None
    delay = delays[attempts_done] * (1 + random.uniform(0, 0.1))
    if retry_after:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return now + timedelta(seconds=delay)
