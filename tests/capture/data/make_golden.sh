#!/usr/bin/env bash
# Re-creates the golden capture files in this folder with real tools (see README.md). Needs root for the
# loopback captures, scapy in $PYTHON, and tcpdump, dumpcap and editcap (Wireshark 4.0 was used).
# Only loopback traffic is captured: UDP datagrams sent by this script to 127.0.0.1:59999.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-/work/venv/bin/python}

# 1. scapy: three frames with fixed timestamps, little-endian µs pcap (wrpcap's default) and
#    big-endian µs / ns pcaps through scapy's own writer (endianness=">").
"$PYTHON" - <<'PY'
from decimal import Decimal
from scapy.all import ARP, ICMP, IP, UDP, Ether, PcapWriter, Raw, wrpcap

frames = [
    Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2", id=1)
    / UDP(sport=40000, dport=53) / Raw(b"layersim golden 1"),
    Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src="10.0.0.2", dst="10.0.0.1", id=2)
    / ICMP(id=7, seq=1) / Raw(b"ping"),
    Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.3"),
]
times = [Decimal("1700000000.123456"), Decimal("1700000001.000001"), Decimal("1700000002.999999")]
for frame, time in zip(frames, times):
    frame.time = time
wrpcap("scapy_us.pcap", frames)
with PcapWriter("scapy_us_be.pcap", endianness=">") as writer:
    writer.write(frames)
ns_times = [Decimal("1700000000.123456789"), Decimal("1700000001.000000001"), Decimal("1700000002.999999999")]
for frame, time in zip(frames, ns_times):
    frame.time = time
with PcapWriter("scapy_ns_be.pcap", endianness=">", nano=True) as writer:
    writer.write(frames)
PY

# 2. editcap conversions of the scapy file: nanosecond pcap, and pcapng with a comment on frame 2.
editcap -F nsecpcap scapy_us.pcap editcap_ns.pcap
editcap -F pcapng -a "2:golden comment from editcap" scapy_us.pcap editcap.pcapng

# 3. Real loopback captures of 4 UDP datagrams to 127.0.0.1:59999: tcpdump (µs pcap), tcpdump with
#    nanosecond timestamps and a 50-byte snaplen (frames cut short), dumpcap (pcapng, with statistics).
send_datagrams() {
    sleep 1.5
    "$PYTHON" -c '
import socket, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4):
    sock.sendto(b"layersim loopback datagram %d" % i, ("127.0.0.1", 59999))
    time.sleep(0.05)
'
}
capture() {
    "$@" &
    local pid=$!
    send_datagrams
    wait "$pid"
}
rm -f lo_tcpdump_us.pcap lo_tcpdump_ns_snap50.pcap lo_dumpcap.pcapng
capture timeout 10 tcpdump -q -i lo -c 4 -w lo_tcpdump_us.pcap udp port 59999
capture timeout 10 tcpdump -q -i lo -c 4 -s 50 --time-stamp-precision=nano -w lo_tcpdump_ns_snap50.pcap \
    udp port 59999
capture timeout 10 dumpcap -q -i lo -c 4 -f "udp port 59999" --capture-comment "layersim golden" \
    -w lo_dumpcap.pcapng
chmod 644 ./*.pcap ./*.pcapng
