"""The delivery settings of Project Settings: the retry schedule, and the networks that Ping URL
and Slack may reach although they are not public."""
import ipaddress

from ..models.settings import DEFAULT_RETRY_SCHEDULE
from ..validation import Collector

MAX_DELAYS = 20
MAX_DELAY = 2 * 86400


def _retry_schedule(errors, text):
    """The schedule as "0, 5, 300": whole seconds before each attempt, commas or spaces between;
    left empty, the Standard Webhooks schedule."""
    parts = ((text or "").strip() or DEFAULT_RETRY_SCHEDULE).replace(",", " ").split()
    if not 1 <= len(parts) <= MAX_DELAYS:
        errors.add("retry_schedule", f"Give between 1 and {MAX_DELAYS} delays, in seconds.")
        return ""
    bad = [part for part in parts if not (part.isascii() and part.isdigit())]
    if bad:
        errors.add("retry_schedule", f"Not a whole number of seconds: {', '.join(bad)}.")
        return ""
    delays = [int(part) for part in parts]
    if max(delays) > MAX_DELAY:
        errors.add("retry_schedule", f"Each delay is at most {MAX_DELAY:,} seconds (2 days).")
    return ", ".join(map(str, delays))


def _networks(errors, text):
    """One network a line (commas allowed too), in CIDR notation; a bare address is one host."""
    networks, bad = [], []
    for line in (text or "").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        try:
            network = str(ipaddress.ip_network(line.strip(), strict=False))
        except ValueError:
            bad.append(line.strip())
            continue
        if network not in networks:
            networks.append(network)
    if bad:
        errors.add("allowed_target_cidrs", f"Not a network such as 10.0.0.0/8 or fd00::/8: "
                                           f"{', '.join(bad)}.")
    return "\n".join(networks)


def apply_delivery_settings(settings, *, retry_schedule, allowed_target_cidrs):
    """Validate and set the retry schedule and the allowed target networks (Invalid names the
    fields); nothing is set unless both are valid."""
    errors = Collector()
    retry_schedule = _retry_schedule(errors, retry_schedule)
    allowed_target_cidrs = _networks(errors, allowed_target_cidrs)
    errors.raise_if_any()
    settings.retry_schedule, settings.allowed_target_cidrs = retry_schedule, allowed_target_cidrs
    return settings
