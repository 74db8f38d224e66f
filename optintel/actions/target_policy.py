"""The private-address check: which addresses an action may reach (server-side request
forgery), judged when a rule is saved and again when it is sent. Public addresses, plus Project
Settings' Allowed Target Networks, unless OPTINTEL_ALLOW_PRIVATE_TARGETS allows every address.
An IPv6 address that wraps an IPv4 one is judged by the IPv4 address it wraps."""
import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

from ..models import ProjectSettings
from . import host_names

WHERE_TO_ALLOW = "To allow it, add its network to Project Settings > Opt-Intel > Allowed Target " \
                 "Networks."
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class RefusedTarget(Exception):
    """A target that no request may reach: retrying cannot help."""


class InvalidHost(RefusedTarget):
    """The host is not a valid host name."""


class UnsafeTarget(RefusedTarget):
    """The host resolves to an address that is not allowed."""

    def __init__(self, address, wrapped=None, host=None):
        self.address, self.wrapped, self.host = address, wrapped, host
        super().__init__(f"{self.reason()}; requests to it are refused.")

    def reason(self):
        """'h resolves to A, which wraps B, which is not a public address', as far as it applies."""
        text = "is not a public address"
        if self.wrapped:
            text = f"wraps {self.wrapped}, which {text}"
        if self.host and self.host != self.address:
            return f"{self.host} resolves to {self.address}, which {text}"
        return f"{self.address} {text}"

    def advice(self):
        """The refusal as a rule's form shows it: the reason and where to allow the address."""
        return f"{self.reason()}. {WHERE_TO_ALLOW}"


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


def wrapped_ipv4(ip):
    """The IPv4 address an IPv6 address carries (IPv4-mapped or -compatible, NAT64, 6to4, the
    client of a Teredo one), or None."""
    if ip.version != 6:
        return None
    for wrapped in (ip.ipv4_mapped, ip.teredo and ip.teredo[1], ip.sixtofour):
        if wrapped is not None:
            return wrapped
    # ::/96 holds :: and ::1 too, which wrap nothing.
    if any(ip in net for net in NAT64) or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class TargetPolicy:
    """Which addresses a request may reach: public ones, plus the allowed networks."""

    allow_private: bool = False
    allowed_networks: tuple = ()

    @classmethod
    def from_settings(cls, allow_private, cidrs_text):
        return cls(allow_private, parse_networks(cidrs_text)[0])

    def _allows(self, ip):
        return any(ip in net for net in self.allowed_networks)

    def check(self, address, host=None):
        """Raise UnsafeTarget unless a request may reach the address (which `host` resolved to)."""
        refused, wrapped = _judged(self, address)
        if refused:
            raise UnsafeTarget(address, wrapped, host)


@lru_cache(maxsize=4096)
def _judged(policy, address):
    """(refused, the IPv4 address it wraps or None) of an address under a policy; remembered, as
    every attempt asks it and the answer never changes."""
    ip = ipaddress.ip_address(address)
    wrapped = wrapped_ipv4(ip)
    judged = wrapped or ip
    if policy.allow_private or policy._allows(ip) or policy._allows(judged):
        return False, wrapped
    # is_global excludes loopback, private, link-local (cloud metadata), shared and reserved.
    return not judged.is_global or judged.is_multicast, wrapped


def project_policy(allowed_target_cidrs=None):
    """The policy of this installation: its configuration and Project Settings' allowed
    networks (or these, about to be saved)."""
    if allowed_target_cidrs is None:
        allowed_target_cidrs = ProjectSettings.get().allowed_target_cidrs
    return TargetPolicy.from_settings(current_app.config["OPTINTEL_ALLOW_PRIVATE_TARGETS"],
                                      allowed_target_cidrs)


def resolve(host, port, policy):
    """The first address of the host that the policy allows. RefusedTarget when the host is not
    a valid host name or none of its addresses is allowed; OSError when it does not resolve."""
    _check_name(host)
    try:
        infos = socket.getaddrinfo(host_names.to_ascii(host), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _unresolved(host, exc) from None
    return _first_allowed(host, infos, policy)


async def resolve_async(host, port, policy):
    """resolve, in a coroutine: a name is looked up without blocking the loop, an address is
    judged as it is."""
    _check_name(host)
    address = _literal(host)
    if address is not None:
        infos = [(None, None, None, "", (address, port))]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host_names.to_ascii(host), port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _unresolved(host, exc) from None
    return _first_allowed(host, infos, policy)


@lru_cache(maxsize=1024)
def _literal(host):
    """The host as an IP address written the usual way, or None when it is a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _check_name(host):
    problem = host_names.problem(host)
    if problem:
        raise InvalidHost(problem)


def _unresolved(host, exc):
    return OSError(f"Cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}")


def _first_allowed(host, infos, policy):
    refusal = None
    for info in infos:
        address = info[4][0]
        try:
            policy.check(address, host)
            return address
        except UnsafeTarget as exc:
            refusal = exc
    raise refusal


def refusal_at_save(host, port, policy):
    """Why a rule may not be saved aiming at this host: a malformed name, or an address the
    policy refuses (with where to allow it). None when it may; a host that does not resolve yet
    may, as it is checked again when sent."""
    problem = host_names.problem(host)
    if problem or policy.allow_private:
        return problem
    try:
        resolve(host, port, policy)
    except UnsafeTarget as exc:
        return exc.advice()
    except OSError:
        return None
    return None
