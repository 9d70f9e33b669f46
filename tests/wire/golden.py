"""Golden frames: real Linux traffic recorded by tests/data/record_golden.sh (client 10.0.1.10 - router
10.0.1.1/10.0.2.1 - server 10.0.2.20, veths with checksum offload off), as tcpdump wrote them to
tests/data/linux_golden.pcap. Frame numbers are tshark's."""

from pathlib import Path

GOLDEN_PCAP = Path(__file__).resolve().parent.parent / "data" / "linux_golden.pcap"

# Frame 1: client asks for the router's MAC (ARP request, 42 bytes: the sender's capture has no padding).
ARP_REQUEST = bytes.fromhex(
    "ffffffffffff020000000110080600010800060400010200000001100a00010a0000000000000a000101")

# Frame 3: `ping -c 1 10.0.2.20`: ICMP echo request, id 0x1fb3, seq 1, 56 bytes of data.
ICMP_ECHO = bytes.fromhex(
    "0200000001010200000001100800450000549f354000400184560a00010a0a0002140800db5a1fb30001f305076b"
    "000000003fad040000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031"
    "323334353637")

# Frame 6: `ping -t 1`: the router's ICMP Time Exceeded, quoting the whole 84-byte echo request (Linux quotes
# as much as fits in 576 bytes).
TIME_EXCEEDED = bytes.fromhex(
    "020000000110020000000101080045c00070b82a00004001ab980a0001010a00010a0b00f4ff00000000450000549f36"
    "40000101c3550a00010a0a0002140800384e1fb40001f305076b00000000e2b8040000000000101112131415161718"
    "191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")

# Frame 10: ping to 10.0.99.1, for which the router has no route: Destination Unreachable, net unreachable.
NET_UNREACHABLE = bytes.fromhex(
    "020000000110020000000101080045c00070b82c00004001ab960a0001010a00010a0300fcff00000000450000542a1d"
    "4000400198810a00010a0a006301080017371fb60001f305076b0000000003ce040000000000101112131415161718"
    "191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")

# Frame 11: a DNS query for example.com (A, recursion desired), id 0x1234, from port 50007.
DNS_QUERY = bytes.fromhex(
    "020000000101020000000110080045000039f10f4000401132870a00010a0a000214c357003500254358123401000001"
    "000000000000076578616d706c6503636f6d0000010001")

# Frame 13: the SYN of urllib's HTTP connection: MSS 1360, SACK permitted, timestamps, NOP, window scale 10.
TCP_SYN = bytes.fromhex(
    "02000000010102000000011008004500003c90174000400693870a00010a0a000214dc4400505cfc19f300000000a002"
    "ff0094340000020405500402080a17f83292000000000103030a")

# Frame 16: urllib's `GET / HTTP/1.1` in one segment (PSH, ACK) with NOP NOP timestamps.
HTTP_GET = bytes.fromhex(
    "0200000001010200000001100800450000a5901940004006931c0a00010a0a000214dc4400505cfc19f4624688cb8018"
    "0040608600000101080a17f832923c183364474554202f20485454502f312e310d0a4163636570742d456e636f6469"
    "6e673a206964656e746974790d0a486f73743a2031302e302e322e32300d0a557365722d4167656e743a2050797468"
    "6f6e2d75726c6c69622f332e31310d0a436f6e6e656374696f6e3a20636c6f73650d0a0d0a")

# 802.1Q frames from real captures, as published in dpkt's test suite (dpkt/ethernet.py, test_eth_802dot1q and
# test_eth_802dot1q_stacked); this machine's kernel has no 8021q module to record our own. Their IPv4, TCP and
# ICMP checksums are all correct, which a made-up frame would not manage by accident.
# A TCP ACK with timestamps, tagged priority 4, DEI 1, VLAN 32.
VLAN_TCP = bytes.fromhex(
    "0060089fb1f300400540ef24810090200800450000343b6440004006b79b83972081839720150495177051d4ee9c51"
    "a55b3680107c7012c700000101080a0004f0d40199a3fd")
# A double-tagged (Q-in-Q: VLAN 118, then VLAN 10) ICMP echo request from a Cisco lab capture.
QINQ_ICMP = bytes.fromhex(
    "001bd41ba4d80013c3dfae18810000768100000a080045000064000f0000ff01929b0a760a010a760a020800ceb700"
    "03000000000000001faf70" + "abcd" * 36)
