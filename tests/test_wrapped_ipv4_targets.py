"""IPv6 addresses that wrap an IPv4 one are judged by the IPv4 address they wrap: refused when it
is not public, allowed when it is or when its network is allowed."""
import pytest

from optintel.actions.target_policy import TargetPolicy, UnsafeTarget

# (form, wrapping 127.0.0.1, wrapping 169.254.169.254, wrapping the public 8.8.8.8)
WRAPPED = [
    ("ipv4-mapped", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:8.8.8.8"),
    ("ipv4-compatible", "::127.0.0.1", "::169.254.169.254", "::8.8.8.8"),
    ("nat64", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::808:808"),
    ("nat64-local-use", "64:ff9b:1::7f00:1", "64:ff9b:1::a9fe:a9fe", "64:ff9b:1::808:808"),
    ("6to4", "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:808:808::1"),
    # Teredo: server 65.54.227.120, then flags and port; the client is the inverse of the last 32 bits.
    ("teredo", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:4136:e378:8000:63bf:5601:5601",
     "2001:0:4136:e378:8000:63bf:f7f7:f7f7"),
]


@pytest.mark.parametrize("form, loopback, metadata, public", WRAPPED, ids=[w[0] for w in WRAPPED])
def test_an_address_that_wraps_an_ipv4_one_is_judged_by_it(form, loopback, metadata, public):
    for address, wrapped in ((loopback, "127.0.0.1"), (metadata, "169.254.169.254")):
        with pytest.raises(UnsafeTarget) as refused:
            TargetPolicy().check(address)
        assert str(refused.value) == (f"{address} wraps {wrapped}, which is not a public address; "
                                      f"requests to it are refused.")
    TargetPolicy().check(public)
    # The allowed networks are the IPv4 ones the operator knows: they let the wrapped form in.
    TargetPolicy.from_settings(False, "127.0.0.0/8").check(loopback)
    with pytest.raises(UnsafeTarget):
        TargetPolicy.from_settings(False, "127.0.0.0/8").check(metadata)
    TargetPolicy(allow_private=True).check(metadata)


@pytest.mark.parametrize("address", ["::1", "::", "fe80::1", "fc00::1", "2001:db8::1"])
def test_ipv6_addresses_that_wrap_nothing_keep_their_own_judgement(address):
    with pytest.raises(UnsafeTarget, match=f"^{address} is not a public address"):
        TargetPolicy().check(address)
