#!/usr/bin/env bash
# Records the Linux-host golden captures that tests/data/LINUX_FACTS.md is read from and that
# tests/net/test_linux_golden_facts.py checks: real traffic of this machine's kernel between network namespaces
# this script makes, client - r1 - r2 - server (addresses as examples/client_r1_r2_server.toml):
#   client eth0 10.0.1.10/24 - r1 eth0 10.0.1.1/24 | r1 eth1 10.0.12.1/24 - r2 eth0 10.0.12.2/24 |
#   r2 eth1 10.0.2.1/24 - server eth0 10.0.2.20/24          (every link MTU 1500, except r1-r2 in pmtu)
# It writes, next to itself (or into the directory given as $1):
#   tcp_http.pcapng        a curl GET of a 10200-byte answer from a tiny HTTP server on server:80 (handshake,
#                          request, multi-segment response, FIN exchange), then curl to closed port 81 (RST);
#                          interfaces client:eth0 and server:eth0
#   pmtu.pcapng            r1-r2 at MTU 576: ping -s 1000 -M do, ping -s 1000 -M want, 1000-byte UDP
#                          datagrams with IP_PMTUDISC_DO and the default (WANT), and the HTTP GET of tcp_http
#                          (server-side PMTU discovery), each of the five phases in fresh namespaces;
#                          interfaces client:eth0, r1:eth1, server:eth0
#   host_behaviour.pcapng  one ping (echo request/reply) and a default `traceroute` (UDP probes);
#                          interfaces client:eth0 and server:eth0
#   tcp_bulk.pcapng        the same GET with a 102000-byte answer, client:eth0 only, frames cut at 128 bytes
#   linux_facts_output.txt what the commands printed (ping, traceroute, curl, the UDP sender), and uname -r
#                          (appended to; delete it first for a fresh record)
# Scenarios may be named after the directory to record only some: record_linux_facts.sh DIR http bulk pmtu host
# Every pcapng interface is one `tcpdump` on one Linux interface, merged in time order by merge_captures.py.
# Needs root, iproute2, ethtool, tcpdump, curl, traceroute, iputils-ping, and Python >= 3.11 ($PYTHON, default
# python3) for the servers and the merge, which imports layersim from this checkout.
# Checksum/segmentation offloads are turned off so the frames hold real checksums and wire-sized segments.
# Only addresses inside these namespaces are used; nothing leaves the machine. All namespaces and processes
# this script starts are removed on exit.  Re-run:  sudo tests/data/record_linux_facts.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
outdir=$(cd "${1:-$here}" && pwd)
repo=$(cd "$here/../.." && pwd)
PY=${PYTHON:-python3}
C=lsf-client R1=lsf-r1 R2=lsf-r2 S=lsf-server
work=$(mktemp -d)
log=$outdir/linux_facts_output.txt
pids=()

teardown() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
    for n in $C $R1 $R2 $S; do
        ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true  # anything still in the namespace
        ip netns del $n 2>/dev/null || true
    done
}
cleanup() { teardown; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

veth() {  # veth NS_A IF_A MAC_A NS_B IF_B MAC_B
    ip link add "$2" netns "$1" address "$3" type veth peer name "$5" netns "$4" address "$6"
}

setup() {  # setup MIDDLE_MTU
    teardown
    for n in $C $R1 $R2 $S; do
        ip netns add $n
        ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n $n link set lo up
    done
    veth $C eth0 02:00:00:00:01:10 $R1 eth0 02:00:00:00:01:01
    veth $R1 eth1 02:00:00:00:12:01 $R2 eth0 02:00:00:00:12:02
    veth $R2 eth1 02:00:00:00:02:01 $S eth0 02:00:00:00:02:20
    ip -n $C addr add 10.0.1.10/24 dev eth0
    ip -n $R1 addr add 10.0.1.1/24 dev eth0
    ip -n $R1 addr add 10.0.12.1/24 dev eth1
    ip -n $R2 addr add 10.0.12.2/24 dev eth0
    ip -n $R2 addr add 10.0.2.1/24 dev eth1
    ip -n $S addr add 10.0.2.20/24 dev eth0
    ip -n $R1 link set eth1 mtu "$1"
    ip -n $R2 link set eth0 mtu "$1"
    for pair in "$C eth0" "$R1 eth0" "$R1 eth1" "$R2 eth0" "$R2 eth1" "$S eth0"; do
        set -- $pair
        ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
        ip -n "$1" link set "$2" up
    done
    ip -n $C route add default via 10.0.1.1
    ip -n $S route add default via 10.0.2.1
    ip -n $R1 route add 10.0.2.0/24 via 10.0.12.2
    ip -n $R2 route add 10.0.1.0/24 via 10.0.12.1
    ip netns exec $R1 sysctl -qw net.ipv4.ip_forward=1
    ip netns exec $R2 sysctl -qw net.ipv4.ip_forward=1
}

capture() {  # capture FILE NS IF [SNAPLEN]: start tcpdump writing $work/FILE.pcap
    ip netns exec "$2" tcpdump -i "$3" -U -s "${4:-0}" --time-stamp-precision nano -w "$work/$1.pcap" not ip6 \
        2>/dev/null &
    pids+=($!)
}

settle() { sleep 1; }

run() {  # run NS CMD...: run a command in a namespace, logging the command and what it printed
    local ns=$1; shift
    echo "## [${ns#lsf-}] $*" >>"$log"
    ip netns exec "$ns" "$@" >>"$log" 2>&1 || echo "(exit status $?)" >>"$log"
    echo >>"$log"
}

http_server() {  # http_server [REPEAT]: a one-request HTTP server on server:80, in the background
    ip netns exec $S "$PY" - "${1:-850}" <<'PY' &
# Reads one request, answers 200 OK with REPEAT x "Hello World\n" (850: 10200 bytes) in one sendall, and closes
# first (no Content-Length: the client reads to the end, so the server's FIN always comes before the client's).
import socket, sys
body = b"Hello World\n" * int(sys.argv[1])
with socket.create_server(("10.0.2.20", 80)) as server:
    conn, _ = server.accept()
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + body)
PY
    pids+=($!)
}

merge() {  # merge OUT COMMENT NAME=FILE...
    local out=$1 comment=$2; shift 2
    local args=()
    for pair in "$@"; do args+=("${pair%%=*}=$work/${pair#*=}.pcap"); done
    PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$PY" "$here/merge_captures.py" "$outdir/$out" "$comment" \
        "${args[@]}"
}


# --- 1. TCP: an HTTP GET with a multi-segment answer, then a SYN to a closed port -------------------------
record_http() {
setup 1500
capture http_c $C eth0; capture http_s $S eth0
http_server
settle
run $C curl -sS -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.0.2.20/
sleep 0.5
run $C curl -sS -o /dev/null http://10.0.2.20:81/
settle
teardown
merge tcp_http.pcapng "Linux $(uname -r): curl GET http://10.0.2.20/ (10200-byte answer), then curl to closed port 81" \
    client:eth0=http_c server:eth0=http_s
}

# --- 1b. TCP bulk: 102000 bytes, to see where the receiver's quick ACKs end; headers only (snaplen 128) -------
record_bulk() {
setup 1500
capture bulk_c $C eth0 128
http_server 8500
settle
run $C curl -sS -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.0.2.20/
settle
teardown
merge tcp_bulk.pcapng "Linux $(uname -r): curl GET http://10.0.2.20/ (102000-byte answer), first 128 bytes of frames" \
    client:eth0=bulk_c
}

# --- 2. Path MTU discovery: r1-r2 has MTU 576; each phase starts from fresh namespaces (no cached PMTU) ----
udp_sender() {  # udp_sender PMTUDISC_MODE: three 1000-byte datagrams to server:9999 from a connected socket
    ip netns exec $C "$PY" - "$1" <<'PY'
import socket, sys, time
IP_MTU_DISCOVER, IP_MTU, PMTUDISC = 10, 14, {"want": 1, "do": 2}  # <linux/in.h>
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC[sys.argv[1]])
s.bind(("10.0.1.10", 40000)); s.connect(("10.0.2.20", 9999))
for n in range(1, 4):
    try:
        s.send(bytes([n]) * 1000)
        print(f"send {n}: ok, 1000 bytes")
    except OSError as exc:
        print(f"send {n}: {exc}")
    time.sleep(0.3)
    print(f"  IP_MTU after send {n}: {s.getsockopt(socket.IPPROTO_IP, IP_MTU)}")
PY
}
udp_receiver() {
    ip netns exec $S "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.0.2.20", 9999))
while True:
    data, peer = s.recvfrom(4096)
' &
    pids+=($!)
}
pmtu_files=()
phase=0
pmtu_phase() {  # pmtu_phase KIND MODE: KIND ping or udp, MODE do or want
    phase=$((phase + 1))
    setup 576
    capture "p${phase}_c" $C eth0; capture "p${phase}_m" $R1 eth1; capture "p${phase}_s" $S eth0
    pmtu_files+=("client:eth0=p${phase}_c" "r1:eth1=p${phase}_m" "server:eth0=p${phase}_s")
    settle
    if [ "$1" = tcp ]; then
        http_server
        settle
        run $C curl -sS -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.0.2.20/
        run $S ip route get 10.0.1.10
    elif [ "$1" = ping ]; then
        run $C ping -n -c 3 -i 0.3 -W 1 -s 1000 -M "$2" 10.0.2.20
    else
        udp_receiver
        sleep 0.3
        echo "## [client] UDP sender, IP_MTU_DISCOVER=$2, 3 x 1000 bytes to 10.0.2.20:9999" >>"$log"
        udp_sender "$2" >>"$log" 2>&1 || echo "(exit status $?)" >>"$log"
        echo >>"$log"
    fi
    run $C ip route get 10.0.2.20
    settle
    teardown
}
record_pmtu() {
pmtu_phase ping do
pmtu_phase ping want
pmtu_phase udp do
pmtu_phase udp want
pmtu_phase tcp -
merge pmtu.pcapng "Linux $(uname -r): r1-r2 MTU 576; ping -s 1000 -M do, -M want; UDP 1000 bytes DO, WANT;\
 curl GET of 10200 bytes" \
    "${pmtu_files[@]}"
}

# --- 3. Host behaviour: echo reply, traceroute's UDP probes ---------------------------------------------------
record_host() {
setup 1500
capture host_c $C eth0; capture host_s $S eth0
settle
run $C ping -n -c 1 -W 1 10.0.2.20
run $C traceroute -n 10.0.2.20
settle
teardown
merge host_behaviour.pcapng "Linux $(uname -r): ping -c 1, then traceroute -n (default UDP probes)" \
    client:eth0=host_c server:eth0=host_s
}

scenarios=("${@:2}")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(http bulk pmtu host)
{ echo "# Output of tests/data/record_linux_facts.sh (scenarios ${scenarios[*]})"; echo "uname -r: $(uname -r)"
  echo; } >>"$log"
for scenario in "${scenarios[@]}"; do "record_$scenario"; done
echo "wrote ${scenarios[*]} into $outdir (output in $log)"
