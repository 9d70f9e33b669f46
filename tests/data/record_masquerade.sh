#!/usr/bin/env bash
# Records real Linux MASQUERADE (NAPT) traffic between network namespaces this script makes, for
# tests/net/test_nat.py:
#
#   in1 10.0.0.2 --+
#                  +-- br0 10.0.0.1 [nat] 203.0.113.2 -- 203.0.113.1 [isp] 93.184.216.1 -- 93.184.216.34 [srv]
#   in2 10.0.0.3 --+
#
# `iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE` on nat; tcpdump on both sides of it writes
# linux_masquerade_inside.pcap (br0) and linux_masquerade_outside.pcap (out0), and the router's conntrack table
# at the end goes to linux_masquerade_conntrack.txt. Traffic: an HTTP GET with curl, TCP and UDP from the same
# source port on both inside hosts to the same server port (a port clash), UDP echo, ping from both hosts with the
# same ICMP identifier (an identifier clash), UDP traceroute (Time Exceeded from isp, Port Unreachable from srv)
# and UDP to a closed port. Needs root, iproute2, iptables, tcpdump, ethtool, curl, traceroute, ping (iputils),
# python3. Only the namespaces' own addresses are used; nothing leaves the machine. Re-runnable: every namespace
# and process it starts is removed on exit.
set -euo pipefail
dir=${1:-$(dirname "$(readlink -f "$0")")}
I1=lsn-in1 I2=lsn-in2 N=lsn-nat P=lsn-isp S=lsn-srv
PY=$(command -v python3)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for n in $I1 $I2 $N $P $S; do
        ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true  # anything left in the namespace
        ip netns del $n 2>/dev/null || true
    done
}
trap cleanup EXIT
cleanup
for n in $I1 $I2 $N $P $S; do
    ip netns add $n
    ip -n $n link set lo up
    ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n $N link add br0 address 02:00:00:00:00:01 type bridge
ip link add eth0 netns $I1 address 02:00:00:00:00:02 type veth peer name p1 netns $N
ip link add eth0 netns $I2 address 02:00:00:00:00:03 type veth peer name p2 netns $N
ip link add out0 netns $N address 02:00:00:00:71:02 type veth peer name in0 netns $P address 02:00:00:00:71:01
ip link add srv0 netns $P address 02:00:00:00:5d:01 type veth peer name eth0 netns $S address 02:00:00:00:5d:22
ip -n $N link set p1 master br0; ip -n $N link set p2 master br0
for l in br0 p1 p2 out0; do ip -n $N link set $l up; done
ip -n $N addr add 10.0.0.1/24 dev br0
ip -n $N addr add 203.0.113.2/24 dev out0
ip -n $N route add default via 203.0.113.1
ip -n $I1 addr add 10.0.0.2/24 dev eth0; ip -n $I1 link set eth0 up; ip -n $I1 route add default via 10.0.0.1
ip -n $I2 addr add 10.0.0.3/24 dev eth0; ip -n $I2 link set eth0 up; ip -n $I2 route add default via 10.0.0.1
ip -n $P addr add 203.0.113.1/24 dev in0; ip -n $P addr add 93.184.216.1/24 dev srv0
ip -n $P link set in0 up; ip -n $P link set srv0 up
ip -n $S addr add 93.184.216.34/24 dev eth0; ip -n $S link set eth0 up; ip -n $S route add default via 93.184.216.1
# The ISP has no route back to 10.0.0.0/24: only translated packets can be answered.
ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
ip netns exec $P sysctl -qw net.ipv4.ip_forward=1
# Real checksums in the capture: no transmit checksum offload on any veth.
for pair in "$I1 eth0" "$I2 eth0" "$N p1" "$N p2" "$N out0" "$P in0" "$P srv0" "$S eth0"; do
    set -- $pair; ip netns exec $1 ethtool -K $2 tx off >/dev/null
done
ip netns exec $N iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE

ip netns exec $N tcpdump -i br0 -U -w "$dir/linux_masquerade_inside.pcap" -s 0 "ip and not igmp" 2>/dev/null &
pids+=($!)
ip netns exec $N tcpdump -i out0 -U -w "$dir/linux_masquerade_outside.pcap" -s 0 "ip and not igmp" 2>/dev/null &
pids+=($!)
ip netns exec $S "$PY" -m http.server 80 --bind 93.184.216.34 >/dev/null 2>&1 &
pids+=($!)
ip netns exec $S "$PY" - <<'PY' &
# TCP on 8080: answer each connection with one line, then close. UDP on 9999: echo.
import socket, threading
def tcp():
    ls = socket.create_server(("93.184.216.34", 8080))
    while True:
        c, _ = ls.accept()
        c.recv(100); c.sendall(b"hello from srv\n"); c.close()
threading.Thread(target=tcp, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("93.184.216.34", 9999))
while True:
    data, addr = u.recvfrom(2048); u.sendto(data, addr)
PY
pids+=($!)
sleep 1.5
client() {  # client NS SPORT PROTO DPORT: one exchange from a fixed source port
    ip netns exec "$1" "$PY" - "$2" "$3" "$4" <<'PY'
import socket, sys
sport, proto, dport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind); s.settimeout(3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", sport))
s.connect(("93.184.216.34", dport))
s.send(b"hi\n"); s.recv(100)
if proto == "tcp":
    s.shutdown(socket.SHUT_WR); s.recv(100)
s.close()
PY
}
ip netns exec $I1 curl -s -o /dev/null http://93.184.216.34/                 # TCP: HTTP GET, ephemeral port
client $I1 40000 tcp 8080; client $I2 40000 tcp 8080                         # TCP port clash (both open at once
client $I1 5353 udp 9999; client $I2 5353 udp 9999                           #   is not needed: the first
ip netns exec $I1 ping -c 1 -W 2 -e 4660 93.184.216.34 >/dev/null            #   mapping lives on in conntrack)
ip netns exec $I2 ping -c 1 -W 2 -e 4660 93.184.216.34 >/dev/null            # ICMP identifier clash
ip netns exec $I1 traceroute -n -U -q 1 -N 1 -w 2 -p 33434 93.184.216.34 >/dev/null  # Time Exceeded, Port Unreach.
ip netns exec $I2 "$PY" -c '
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 6000))
s.sendto(b"anyone?", ("93.184.216.34", 9)); s.settimeout(2)
try: s.recv(100)
except OSError: pass'                                                          # UDP to a closed port
sleep 1
ip netns exec $N cat /proc/net/nf_conntrack > "$dir/linux_masquerade_conntrack.txt"
sleep 0.5
echo "wrote $dir/linux_masquerade_{inside,outside}.pcap and linux_masquerade_conntrack.txt"
