"""Link-layer header types of pcap and pcapng files (the tcpdump.org LINKTYPE_ registry), by name."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["LinkType", "linktype_name"]


class LinkType(IntEnum):
    """LINKTYPE_ values (https://www.tcpdump.org/linktypes.html) that layersim decodes or names."""

    NULL = 0  # BSD loopback: a 4-byte address family in the capturing host's byte order
    ETHERNET = 1
    PPP = 9
    RAW = 101  # raw IPv4 or IPv6, told apart by the version nibble
    IEEE802_11 = 105
    LOOP = 108  # OpenBSD loopback: the address family in network byte order
    LINUX_SLL = 113  # Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10)
    IEEE802_11_RADIOTAP = 127
    USER0 = 147
    USER1 = 148
    USER2 = 149
    USER3 = 150
    USER4 = 151
    USER5 = 152
    USER6 = 153
    USER7 = 154
    USER8 = 155
    USER9 = 156
    USER10 = 157
    USER11 = 158
    USER12 = 159
    USER13 = 160
    USER14 = 161
    USER15 = 162
    BLUETOOTH_HCI_H4_WITH_PHDR = 201
    USB_LINUX_MMAPPED = 220
    IPV4 = 228
    IPV6 = 229
    NETLINK = 253
    LINUX_SLL2 = 276  # Linux cooked capture v2 (`tcpdump -i any` since libpcap 1.10)


def linktype_name(linktype: int) -> str:
    """ "147 (USER0)" for a registered link type, "4242 (unknown)" otherwise."""
    try:
        return f"{linktype} ({LinkType(linktype).name})"
    except ValueError:
        return f"{linktype} (unknown)"
