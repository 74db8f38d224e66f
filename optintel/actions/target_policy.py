"""The private-address check: which addresses an action may reach (server-side request
forgery). Public addresses, plus Project Settings' Allowed Target Networks, unless
OPTINTEL_ALLOW_PRIVATE_TARGETS allows every address."""
import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

from ..models import ProjectSettings


class UnsafeTarget(Exception):
    """The host resolves to an address that is not allowed."""


@lru_cache(maxsize=64)
def parse_networks(text):
    """(networks, bad lines) of one network a line (commas allowed too), in CIDR notation; a
    bare address is one host. Cached: the same text is parsed once per process."""
    networks, bad = [], []
    for line in (text or "").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        try:
            network = ipaddress.ip_network(line.strip(), strict=False)
        except ValueError:
            bad.append(line.strip())
            continue
        if network not in networks:
            networks.append(network)
    return tuple(networks), tuple(bad)


@dataclass(frozen=True)
class TargetPolicy:
    """Which addresses a request may reach: public ones, plus the allowed networks."""

    allow_private: bool = False
    allowed_networks: tuple = ()

    @classmethod
    def from_settings(cls, allow_private, cidrs_text):
        return cls(allow_private, parse_networks(cidrs_text)[0])

    def check(self, address):
        ip = ipaddress.ip_address(address)
        if self.allow_private or any(ip in net for net in self.allowed_networks):
            return
        # is_global excludes loopback, private, link-local (cloud metadata), shared and reserved.
        if not ip.is_global or ip.is_multicast:
            raise UnsafeTarget(f"{address} is not a public address; requests to it are refused.")


def project_policy():
    """The policy of this installation: its configuration and Project Settings."""
    return TargetPolicy.from_settings(current_app.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"],
                                      ProjectSettings.get().allowed_target_cidrs)


def resolve(host, port, policy):
    """The first address of the host that the policy allows; UnsafeTarget when none is."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"Cannot resolve {host}: {exc.strerror}") from None
    refusal = None
    for info in infos:
        address = info[4][0]
        try:
            policy.check(address)
            return address
        except UnsafeTarget as exc:
            refusal = exc
    raise refusal
