#!/usr/bin/env bash
# Re-creates the link-type golden captures (see README.md, step 4). Needs root and tcpdump (4.99 with libpcap
# 1.10 was used). Only loopback traffic: a UDP datagram to a closed port on 127.0.0.1 (the kernel answers with
# ICMP port unreachable) and an HTTP GET to a python http.server on 127.0.0.1:8765.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
FILTER="host 127.0.0.1 and (udp port 59998 or icmp or tcp port 8765)"

root=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$root"' EXIT
printf 'layersim cooked capture\n' > "$root/hello.txt"
"$PYTHON" -m http.server 8765 --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 &
server=$!
sleep 1

traffic() {
    sleep 1.5
    "$PYTHON" -c '
import socket, urllib.request
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.sendto(b"layersim cooked datagram", ("127.0.0.1", 59998))
urllib.request.urlopen("http://127.0.0.1:8765/hello.txt").read()
'
    sleep 1
}
capture() {  # capture FILE TCPDUMP-OPTIONS...: record the traffic, then stop tcpdump (it finishes the file)
    local out=$1
    shift
    tcpdump -q -i any "$@" -w "$out" "$FILTER" &
    local pid=$!
    traffic
    kill -INT "$pid"
    wait "$pid" || true
}
capture linux_sll2.pcap -y LINUX_SLL2
capture linux_sll.pcap -y LINUX_SLL

# Raw IP and loopback link types, written from known bytes: the IPv4 packets of linux_sll.pcap (its 16-byte
# header cut off) under LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_NULL (0) from a little-endian and
# from a big-endian host (AF_INET = 2 in host order before each packet), and LINKTYPE_LOOP (108, network order).
"$PYTHON" - <<'PY'
import struct

data = open("linux_sll.pcap", "rb").read()
magic, = struct.unpack_from("<I", data)
assert magic == 0xA1B2C3D4, "expected a little-endian µs pcap from tcpdump"
records, pos = [], 24
while pos < len(data):
    seconds, micros, caplen, origlen = struct.unpack_from("<IIII", data, pos)
    frame = data[pos + 16:pos + 16 + caplen]
    assert frame[14:16] == b"\x08\x00", "an IPv4 frame"
    records.append((seconds, micros, frame[16:]))
    pos += 16 + caplen

def write(name, linktype, prefix):
    with open(name, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for seconds, micros, packet in records:
            body = prefix + packet
            out.write(struct.pack("<IIII", seconds, micros, len(body), len(body)) + body)

write("raw_101.pcap", 101, b"")
write("ipv4_228.pcap", 228, b"")
write("null_le.pcap", 0, struct.pack("<I", 2))
write("null_be.pcap", 0, struct.pack(">I", 2))
write("loop_108.pcap", 108, struct.pack(">I", 2))
PY
chmod 644 ./*.pcap
