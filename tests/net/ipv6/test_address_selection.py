"""RFC 6724 default address selection, checked on the RFC's own examples (§10.1 and §10.2) and the policy
table's boundaries."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Interface, ip_address

import pytest

from layersim.net.ipv6.address_selection import label, precedence, scope, select_source, sort_destinations


def candidates(*texts: str) -> list[tuple[IPv6Interface, str]]:
    return [(IPv6Interface(f"{t}/64"), "eth0") for t in texts]


@pytest.mark.parametrize(("dst", "sources", "chosen"), [  # RFC 6724 §10.1 (those not about rules 3, 4 and 7)
    ("2001:db8:1::1", ("2001:db8:3::1", "fe80::1"), "2001:db8:3::1"),  # prefer appropriate scope
    ("ff05::1", ("2001:db8:3::1", "fe80::1"), "2001:db8:3::1"),  # prefer appropriate scope
    ("2001:db8:1::1", ("2001:db8:2::1", "2001:db8:1::1"), "2001:db8:1::1"),  # prefer same address
    ("fe80::1", ("2001:db8:1::1", "fe80::2"), "fe80::2"),  # prefer appropriate scope
    ("2001:db8:1::1", ("2001:db8:3::2", "2001:db8:1::2"), "2001:db8:1::2"),  # longest matching prefix
    ("2002:c633:6401::1", ("2001:db8:1::2", "2002:c633:6401::d5e3:7953:13eb:22e8"),
     "2002:c633:6401::d5e3:7953:13eb:22e8"),  # prefer matching label
])
def test_source_selection_examples_of_rfc_6724(dst, sources, chosen):
    assert select_source(IPv6Address(dst), candidates(*sources), "eth0") == IPv6Address(chosen)


def test_source_selection_prefers_the_outgoing_interface_and_needs_a_candidate():
    both = [(IPv6Interface("2001:db8:1::1/64"), "eth0"), (IPv6Interface("2001:db8:2::1/64"), "eth1")]
    assert select_source(IPv6Address("2001:db8:9::1"), both, "eth1") == IPv6Address("2001:db8:2::1")
    assert select_source(IPv6Address("2001:db8:9::1"), [], "eth0") is None


def chooser(*sources: str):
    """source_of for a node with these addresses (RFC 6724 §10.2 lists them per example)."""
    v6 = candidates(*(s for s in sources if ":" in s))
    v4 = [IPv4Address(s) for s in sources if ":" not in s]

    def source_of(dst):
        if isinstance(dst, IPv4Address):
            return v4[0] if v4 else None
        return select_source(dst, v6, "eth0")
    return source_of


@pytest.mark.parametrize(("sources", "destinations", "order"), [  # RFC 6724 §10.2
    (("2001:db8:1::2", "fe80::1", "169.254.13.78"), ("198.51.100.121", "2001:db8:1::1"),
     ("2001:db8:1::1", "198.51.100.121")),  # prefer matching scope
    (("fe80::1", "198.51.100.117"), ("2001:db8:1::1", "198.51.100.121"),
     ("198.51.100.121", "2001:db8:1::1")),  # prefer matching scope
    (("2001:db8:1::2", "fe80::1", "10.1.2.4"), ("10.1.2.3", "2001:db8:1::1"),
     ("2001:db8:1::1", "10.1.2.3")),  # prefer higher precedence
    (("2001:db8:1::2", "fe80::2"), ("2001:db8:1::1", "fe80::1"), ("fe80::1", "2001:db8:1::1")),  # smaller scope
    (("2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"), ("2001:db8:3ffe::1", "2001:db8:1::1"),
     ("2001:db8:1::1", "2001:db8:3ffe::1")),  # longest matching prefix
    (("2002:c633:6401::2", "fe80::2"), ("2001:db8:1::1", "2002:c633:6401::1"),
     ("2002:c633:6401::1", "2001:db8:1::1")),  # prefer matching label
    (("2002:c633:6401::2", "2001:db8:1::2", "fe80::2"), ("2002:c633:6401::1", "2001:db8:1::1"),
     ("2001:db8:1::1", "2002:c633:6401::1")),  # prefer higher precedence
])
def test_destination_order_examples_of_rfc_6724(sources, destinations, order):
    result = sort_destinations([ip_address(d) for d in destinations], chooser(*sources))
    assert result == [ip_address(d) for d in order]
    again = sort_destinations([ip_address(d) for d in reversed(destinations)], chooser(*sources))
    assert again == result  # the rules decide, not the order given


def test_a_dual_stack_host_lists_aaaa_first_and_a_v4_only_host_a_first():
    both = [IPv4Address("93.184.216.34"), IPv6Address("2606:2800:220:1::1")]
    assert sort_destinations(both, chooser("2001:db8:1::10", "10.0.1.10"))[0] == both[1]
    assert sort_destinations(both, chooser("fe80::1", "10.0.1.10"))[0] == both[0]  # link-local only: v4 first
    assert sort_destinations(both, lambda d: None) == both  # nothing usable: the order given


def test_policy_table_boundaries():
    assert (precedence(IPv6Address("::1")), label(IPv6Address("::1"))) == (50, 0)
    assert (precedence(IPv6Address("::2")), label(IPv6Address("::2"))) == (1, 3)  # ::/96, not ::1/128
    assert (precedence(IPv4Address("10.0.0.1")), label(IPv4Address("10.0.0.1"))) == (35, 4)
    assert (precedence(IPv6Address("2001:0:ffff::")), label(IPv6Address("2001:1::"))) == (5, 1)  # /32 edge
    assert (precedence(IPv6Address("fdff::1")), precedence(IPv6Address("fe00::1"))) == (3, 40)  # fc00::/7 edge
    assert scope(IPv6Address("ff02::1")) == 2 and scope(IPv6Address("ff0e::1")) == 14
    assert scope(IPv4Address("169.254.1.1")) == 2 and scope(IPv4Address("127.0.0.1")) == 2
    assert scope(IPv6Address("fec0::1")) == 5 and scope(IPv6Address("2001:db8::1")) == 14
