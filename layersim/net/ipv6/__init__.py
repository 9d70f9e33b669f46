"""IPv6 on a node: addresses, neighbour discovery, and (to come) the node runtime, ICMPv6 and path MTU."""
