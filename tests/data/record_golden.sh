#!/usr/bin/env bash
# Records tests/data/linux_golden.pcap: real Linux traffic between network namespaces that this script makes
# (client - router - server), used as golden frames by tests/wire/golden.py. Needs root, iproute2, tcpdump,
# python3. Only the namespaces' own addresses are used; nothing leaves the machine.
set -euo pipefail
out=${1:-$(dirname "$0")/linux_golden.pcap}
C=lsg-client R=lsg-router S=lsg-server
cleanup() {
    for n in $C $R $S; do
        ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true  # servers left in the namespace
        ip netns del $n 2>/dev/null || true
    done
}
trap cleanup EXIT
cleanup
for n in $C $R $S; do ip netns add $n; ip -n $n link set lo up; done
ip link add c0 netns $C address 02:00:00:00:01:10 type veth peer name r0 netns $R address 02:00:00:00:01:01
ip link add r1 netns $R address 02:00:00:00:02:01 type veth peer name s0 netns $S address 02:00:00:00:02:20
ip -n $C addr add 10.0.1.10/24 dev c0; ip -n $C link set c0 up
ip -n $R addr add 10.0.1.1/24 dev r0; ip -n $R link set r0 up
ip -n $R addr add 10.0.2.1/24 dev r1; ip -n $R link set r1 up mtu 1400
ip -n $S addr add 10.0.2.20/24 dev s0; ip -n $S link set s0 up mtu 1400
ip -n $C route add default via 10.0.1.1
ip -n $S route add default via 10.0.2.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
# Real checksums in the capture: no checksum offload on the veths (needs ethtool).
for pair in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $pair; ip netns exec $1 ethtool -K $2 tx off >/dev/null; done
# (No 802.1Q VLAN here: this kernel has no 8021q module; VLAN frames are checked against scapy.)
for n in $C $R $S; do ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done

ip netns exec $C tcpdump -i c0 -U -w "$out" -s 0 not ip6 2>/dev/null &
dump=$!
sleep 1
ip netns exec $S python3 -m http.server 80 --bind 10.0.2.20 >/dev/null 2>&1 &
web=$!
ip netns exec $S python3 - <<'PY' &
# A one-answer DNS server: answers any A query for example.com with a CNAME and an A record.
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.0.2.20", 53))
q, addr = s.recvfrom(512)
ident, = struct.unpack("!H", q[:2]); question = q[12:]
answer = (b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x06\x03www\xc0\x0c"
          b"\xc0\x29\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd8\x22")
s.sendto(struct.pack("!HHHHHH", ident, 0x8180, 1, 2, 0, 0) + question + answer, addr)
PY
dns=$!
sleep 1
ip netns exec $C ping -c 1 -W 1 10.0.2.20 >/dev/null            # ARP request/reply, ICMP echo request/reply
ip netns exec $C ping -c 1 -W 1 -t 1 10.0.2.20 >/dev/null || true  # ICMP time exceeded from the router
ip netns exec $C ping -c 1 -W 1 -M do -s 1450 10.0.2.20 >/dev/null || true  # fragmentation needed (MTU 1400)
ip netns exec $C ping -c 1 -W 1 10.0.99.1 >/dev/null || true      # no route at the router: net unreachable
ip netns exec $C python3 - <<'PY'
# A DNS query for example.com, then an HTTP GET over TCP.
import socket, struct, urllib.request
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00\x00\x01\x00\x01",
         ("10.0.2.20", 53))
s.recvfrom(512)
urllib.request.urlopen("http://10.0.2.20/", timeout=3).read()
PY
sleep 1
kill $dump $web 2>/dev/null || true
wait $dump 2>/dev/null || true
kill $dns 2>/dev/null || true
echo "wrote $out"
