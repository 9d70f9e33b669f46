#!/usr/bin/env bash
# Records tests/data/ipv6_golden.pcap (Ethernet, at the client) and ipv6_sll2.pcap (`tcpdump -i any` at the
# router): real Linux IPv6 traffic between network namespaces that this script makes (client - router - server),
# used by tests/wire/test_ipv6_golden.py. Needs root, iproute2, ethtool, tcpdump, iputils-ping,
# traceroute, python3 with scapy (for the frames
# Linux does not send by itself: RS/RA with options, an extension-header chain, ESP). Only the namespaces' own
# addresses are used; nothing leaves the machine.
set -euo pipefail
here=$(dirname "$0")
out=${1:-$here/ipv6_golden.pcap}
out_any=${2:-$here/ipv6_sll2.pcap}
PY=${PYTHON:-python3}
C=l6-client R=l6-router S=l6-server
cleanup() {
    for n in $C $R $S; do
        ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del $n 2>/dev/null || true
    done
}
trap cleanup EXIT
cleanup
for n in $C $R $S; do ip netns add $n; ip -n $n link set lo up; done
ip link add c0 netns $C address 02:00:00:00:01:10 type veth peer name r0 netns $R address 02:00:00:00:01:01
ip link add r1 netns $R address 02:00:00:00:02:01 type veth peer name s0 netns $S address 02:00:00:00:02:20
for pair in "$C c0" "$R r0" "$R r1" "$S s0"; do
    set -- $pair
    ip netns exec $1 ethtool -K $2 tx off >/dev/null  # real checksums in the capture
done
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n $R link set r1 mtu 1400; ip -n $S link set s0 mtu 1400
for pair in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $pair; ip -n $1 link set $2 up; done
ip -n $R addr add 2001:db8:1::1/64 dev r0 nodad
ip -n $R addr add 2001:db8:2::1/64 dev r1 nodad
ip -n $S addr add 2001:db8:2::20/64 dev s0 nodad
ip -n $S -6 route add default via 2001:db8:2::1
sleep 2  # link-local DAD done before the capture starts

ip netns exec $C tcpdump -i c0 -U -w "$out" -s 0 ip6 2>/dev/null &
dump=$!
ip netns exec $R tcpdump -i any -y LINUX_SLL2 -U -w "$out_any" -s 0 'ip6 and icmp6' -c 6 2>/dev/null &
dump_any=$!
sleep 1
ip -n $C addr add 2001:db8:1::10/64 dev c0    # DAD: NS from ::, MLDv2 report for the solicited-node group
sleep 2
ip -n $C -6 route add default via 2001:db8:1::1
ip netns exec $C "$PY" - <<'PYEOF'
# NDP frames Linux sends only with a router daemon: RS from the client, RA with options from the router's MAC.
from scapy.all import (Ether, IPv6, ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptMTU, ICMPv6NDOptRDNSS, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                       IPv6ExtHdrFragment, RouterAlert, PadN, UDP, ESP, Raw, sendp, conf)
conf.verb = 0
c, r = "02:00:00:00:01:10", "02:00:00:00:01:01"
sendp(Ether(src=c, dst="33:33:00:00:00:02") / IPv6(src="fe80::ff:fe00:110", dst="ff02::2", hlim=255)
      / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=c), iface="c0")
sendp(Ether(src=r, dst="33:33:00:00:00:01") / IPv6(src="fe80::ff:fe00:101", dst="ff02::1", hlim=255)
      / ICMPv6ND_RA(chlim=64, M=0, O=1, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
      / ICMPv6NDOptSrcLLAddr(lladdr=r) / ICMPv6NDOptMTU(mtu=1500)
      / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, validlifetime=86400, preferredlifetime=14400)
      / ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8:2::20", "2001:db8:2::53"]), iface="c0")
# An extension-header chain: Hop-by-Hop (Router Alert), Destination Options (PadN), Routing type 0 with no
# segments left, an atomic Fragment header, then UDP; and an ESP packet (opaque).
sendp(Ether(src=c, dst=r) / IPv6(src="2001:db8:1::10", dst="2001:db8:2::20")
      / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
      / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")])
      / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8:2::20"])
      / IPv6ExtHdrFragment(id=0x1234, m=0, offset=0) / UDP(sport=40000, dport=7) / b"chain", iface="c0")
sendp(Ether(src=c, dst=r) / IPv6(src="2001:db8:1::10", dst="2001:db8:2::20")
      / ESP(spi=0x1001, seq=1) / Raw(b"\x8a" * 24), iface="c0")
PYEOF
www=$(mktemp -d); echo "hello over IPv6" > "$www/index.html"
ip netns exec $S "$PY" -m http.server 80 --bind 2001:db8:2::20 --directory "$www" >/dev/null 2>&1 &
web=$!
sleep 1
ip netns exec $C ping -6 -c 1 -W 1 2001:db8:2::20 >/dev/null                # NS/NA, echo request/reply
ip netns exec $C ping -6 -c 1 -W 1 -t 1 2001:db8:2::20 >/dev/null || true   # time exceeded from the router
ip netns exec $C ping -6 -c 1 -W 1 -M do -s 1450 2001:db8:2::20 >/dev/null || true  # packet too big (1400)
ip netns exec $C ping -6 -c 1 -W 1 2001:db8:99::1 >/dev/null || true        # no route: unreachable
ip netns exec $C traceroute -6 -n -q 1 -w 1 -m 2 2001:db8:2::20 >/dev/null || true  # UDP probes, hop limit 1, 2
ip netns exec $C "$PY" - <<'PYEOF'
# A 3000-byte UDP datagram (fragmented at the source, MTU 1500), then an HTTP GET over IPv6.
import socket, urllib.request
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.sendto(bytes(range(256)) * 11 + bytes(184), ("2001:db8:2::20", 9))
urllib.request.urlopen("http://[2001:db8:2::20]/", timeout=3).read()
PYEOF
sleep 1
kill $web; kill -INT $dump; kill -INT $dump_any 2>/dev/null || true
wait $dump || true; wait $dump_any 2>/dev/null || true
rm -rf "$www"
