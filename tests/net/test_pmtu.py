"""Path MTU discovery on hosts (RFC 1191) with a 576-byte r1 - r2 link, compared with the real Linux 6.x captures of
tests/data/pmtu.pcapng: ping -M want / do and a connected UDP socket in IP_PMTUDISC_DO and WANT."""

from __future__ import annotations

import errno
from ipaddress import IPv4Address

import pytest

from layersim import ICMP, IPv4
from layersim.app import ping
from layersim.net.engine.process import sleep
from layersim.net.trace.details import PathMtu
from layersim.net.trace.log import EventKind
from tests.data import linux_facts as lf
from tests.data.linux_facts import CLIENT_IF, MIDDLE_IF
from tests.net.conftest import CLIENT_IP, R1_LEFT, SERVER_IP, Chain, build_chain
from tests.net.linux_output import masked, printed
from tests.net.sim_frames import wire

MS = 1_000_000


def narrow_chain() -> Chain:
    """The chain with the r1 - r2 link at MTU 576, as in the Linux recording."""
    return build_chain(link_b={"mtu": 576})


def linux_phase(n: int, iface: str) -> list[lf.Frame]:
    """The IPv4 frames of phase `n` of pmtu.pcapng seen on `iface`."""
    return [f for f in lf.phases(lf.PMTU)[n] if f.interface == iface and IPv4 in f.packet]


def summaries(frames: list[lf.Frame]) -> list[tuple[str, str, int, bool, bool, int]]:
    """(src, dst, total length, DF, MF, offset) of each frame."""
    return [lf.ip_summary(f) for f in frames]


def check_frag_needed(frame: lf.Frame, router: str) -> None:
    """A Frag Needed as Linux routers send it: next-hop MTU 576, 576 bytes long, no DF, TOS 0xc0, TTL 64 as
    sent, quoting the datagram before the router decremented its TTL."""
    icmp = frame.packet[ICMP]
    assert (str(frame.ip.src), icmp.type, icmp.code, icmp.next_hop_mtu) == (router, 3, 4, 576)
    assert frame.ip.total_length == 576 and not lf.df(frame) and frame.ip.dscp == 48
    assert icmp.checksum_ok and frame.ip.checksum_ok
    inner = lf.quoted(frame)
    assert inner.total_length == 1028 and inner.ttl == 64


# --- ping -M want (the default) -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def want() -> tuple[Chain, object]:
    chain = narrow_chain()
    return chain, ping(chain.client, SERVER_IP, count=3, size=1000)


def test_ping_want_first_request_draws_frag_needed_then_replies(want) -> None:
    chain, result = want
    assert result.sent == 3 and result.received == 2
    assert result.errors == {1: f"From {R1_LEFT} Frag needed and DF set (mtu = 576)"}
    assert result.rtts_ns[1] is None and result.rtts_ns[2] is not None and result.rtts_ns[3] is not None
    assert "1008 bytes from 10.0.2.20: icmp_seq=2 ttl=62" in str(result)
    assert chain.client.path_mtu(SERVER_IP) == 576


def test_ping_want_first_request_and_frag_needed_match_linux(want) -> None:
    chain, _ = want
    ours, linux = wire(chain.net, CLIENT_IF), linux_phase(1, CLIENT_IF)
    assert summaries(ours)[:2] == summaries(linux)[:2] == [(CLIENT_IP, SERVER_IP, 1028, True, False, 0),
                                                           (R1_LEFT, CLIENT_IP, 576, False, False, 0)]
    assert ours[0].ip.identification != 0  # WANT: DF with a real id (DO uses 0)
    check_frag_needed(ours[1], R1_LEFT)
    check_frag_needed(linux[1], R1_LEFT)
    assert lf.quoted(ours[1]).identification == ours[0].ip.identification


def test_ping_want_pmtu_event_in_trace(want) -> None:
    chain, _ = want
    learned = chain.net.trace.select(EventKind.PMTU, node="client")
    assert [e.info for e in learned] == [PathMtu(SERVER_IP, 576)]
    frag_needed_arrival = next(e for e in wire(chain.net, CLIENT_IF) if e.packet.layers[2].name == "ICMP"
                               and e.packet[ICMP].type == 3)
    assert learned[0].time_ns >= frag_needed_arrival.time_ns


def test_ping_want_later_requests_fragmented_by_the_client_as_linux(want) -> None:
    chain, _ = want
    ours, linux = wire(chain.net, CLIENT_IF), linux_phase(1, CLIENT_IF)
    assert summaries(ours)[2:] == summaries(linux)[2:]  # 572 (MF) + 476 (offset 552), request then reply, twice
    assert ours[2].ip.identification == ours[3].ip.identification


def test_ping_want_later_requests_lose_df_and_arrive_whole(want) -> None:
    chain, _ = want
    requests = [f for f in wire(chain.net, CLIENT_IF) if str(f.ip.src) == CLIENT_IP and not f.ip.fragment_offset]
    assert lf.df(requests[0]) and not any(lf.df(f) for f in requests[1:])
    delivered = [e for e in chain.net.trace.select(EventKind.DELIVER, node="server")]
    assert len(delivered) == 2 and all(len(e.frame) == 1028 for e in delivered)  # reassembled


def test_ping_want_reply_has_no_df_and_r2_fragments_it_as_linux(want) -> None:
    chain, _ = want
    replies = [f for f in wire(chain.net, "server:eth0") if str(f.ip.src) == SERVER_IP]
    assert summaries(replies) == [(SERVER_IP, CLIENT_IP, 1028, False, False, 0)] * 2
    linux_replies = [f for f in linux_phase(1, "server:eth0") if str(f.ip.src) == SERVER_IP]
    assert summaries(replies) == summaries(linux_replies)
    ours_mid = [f for f in wire(chain.net, "r2:eth0") if str(f.ip.src) == SERVER_IP]
    linux_mid = [f for f in linux_phase(1, MIDDLE_IF) if str(f.ip.src) == SERVER_IP]
    assert summaries(ours_mid) == summaries(linux_mid)  # 572 + 476, twice
    assert [f.ip.ttl for f in ours_mid] == [f.ip.ttl for f in linux_mid] == [63] * 4
    for first, second in zip(ours_mid[::2], ours_mid[1::2], strict=True):
        assert first.ip.identification == second.ip.identification


# --- ping -M do ---------------------------------------------------------------------------------------------

def test_ping_do_one_request_then_local_errors_as_linux() -> None:
    chain = narrow_chain()
    result = ping(chain.client, SERVER_IP, count=3, size=1000, pmtu="do")
    assert result.received == 0 and result.sent == 3
    assert result.errors == {1: f"From {R1_LEFT} Frag needed and DF set (mtu = 576)",
                             2: "local error: message too long, mtu=576",
                             3: "local error: message too long, mtu=576"}
    ours, linux = wire(chain.net, CLIENT_IF), linux_phase(0, CLIENT_IF)
    assert summaries(ours) == summaries(linux)  # one 1028-byte DF request and its Frag Needed, nothing more
    assert ours[0].ip.identification == linux[0].ip.identification == 0
    check_frag_needed(ours[1], R1_LEFT)
    assert not wire(chain.net, "r2:eth0") and not linux_phase(0, MIDDLE_IF)


# --- a connected UDP socket -------------------------------------------------------------------------------------

def udp_three_sends(mode: str) -> tuple[Chain, list[object]]:
    """Send 3 x 1000 bytes from a connected socket in `mode`, 300 ms apart; what each send did."""
    chain = narrow_chain()
    chain.server.udp_socket(9999)
    outcomes: list[object] = []

    def client() -> None:
        sock = chain.client.udp_socket(40000)
        sock.set_pmtu(mode)
        sock.connect((SERVER_IP, 9999))
        for n in range(3):
            try:
                sock.send(bytes([n + 1]) * 1000)
                outcomes.append("sent")
            except OSError as exc:
                outcomes.append(errno.errorcode[exc.errno])
            sleep(300 * MS)

    proc = chain.client.spawn(client)
    chain.net.run()
    assert proc.done and proc.exception is None
    return chain, outcomes


def test_udp_do_first_send_then_emsgsize_and_nothing_on_the_wire() -> None:
    chain, outcomes = udp_three_sends("do")
    assert outcomes == ["sent", "EMSGSIZE", "EMSGSIZE"]
    ours, linux = wire(chain.net, CLIENT_IF), linux_phase(2, CLIENT_IF)
    assert summaries(ours) == summaries(linux)
    assert ours[0].ip.identification != 0  # a connected socket's own counter
    check_frag_needed(ours[1], R1_LEFT)
    assert chain.client.path_mtu(SERVER_IP) == 576


def test_udp_want_error_reported_on_second_send() -> None:
    chain, outcomes = udp_three_sends("want")
    assert outcomes == ["sent", "EMSGSIZE", "sent"]
    ours = wire(chain.net, CLIENT_IF)
    assert summaries(ours)[:2] == summaries(linux_phase(3, CLIENT_IF))[:2]
    third = [f for f in ours if str(f.ip.src) == CLIENT_IP][1:]
    assert third and not any(lf.df(f) for f in third)
    assert chain.server.sockets.udp[(0, 9999)].received[-1].data == bytes([3]) * 1000


def test_udp_want_third_send_fragmented_by_the_client_as_linux() -> None:
    chain, _ = udp_three_sends("want")
    ours, linux = wire(chain.net, CLIENT_IF), linux_phase(3, CLIENT_IF)
    assert summaries(ours) == summaries(linux)
    assert ours[2].ip.identification == ours[3].ip.identification == ours[0].ip.identification + 1


# --- Linux's floor on learned path MTUs ---------------------------------------------------------------------------

def test_learned_path_mtu_never_below_linux_min_pmtu() -> None:
    chain = build_chain(link_b={"mtu": 400})
    result = ping(chain.client, SERVER_IP, count=2, size=1000)
    assert result.received == 1 and "(mtu = 400)" in result.errors[1]
    assert chain.client.path_mtu(SERVER_IP) == 552
    second = [f for f in wire(chain.net, CLIENT_IF) if str(f.ip.src) == CLIENT_IP][1:]
    assert [f.ip.total_length for f in second] == [548, 500] and not any(lf.df(f) for f in second)


def test_path_mtu_expires_after_ten_minutes_and_is_never_raised() -> None:
    chain = narrow_chain()
    ping(chain.client, SERVER_IP, count=1, size=1000)
    learned_at = chain.net.trace.select(EventKind.PMTU, node="client")[0].time_ns
    assert not chain.client.pmtu.learn(int(IPv4Address(SERVER_IP)), 1000, chain.net.now)  # RFC 1191: not raised
    seen: list[int | None] = []

    def watch() -> None:
        sleep(learned_at + 599_000 * MS - chain.net.now)
        seen.append(chain.client.path_mtu(SERVER_IP))
        sleep(2_000 * MS)
        seen.append(chain.client.path_mtu(SERVER_IP))

    chain.client.spawn(watch)
    chain.net.run()
    assert seen == [576, 1500]  # net.ipv4.route.mtu_expires = 600 s
    again = ping(chain.client, SERVER_IP, count=1, size=1000)
    assert again.errors == {1: f"From {R1_LEFT} Frag needed and DF set (mtu = 576)"}  # DF again, so it learns again


# --- what ping prints ---------------------------------------------------------------------------------------------

def test_ping_want_prints_as_iputils() -> None:
    result = ping(narrow_chain().client, SERVER_IP, count=3, size=1000, interval_ns=300 * MS)
    assert masked(str(result)) == printed("ping -n -c 3 -i 0.3 -W 1 -s 1000 -M want")


def test_ping_do_prints_as_iputils() -> None:
    result = ping(narrow_chain().client, SERVER_IP, count=3, size=1000, interval_ns=300 * MS, pmtu="do")
    assert masked(str(result)) == printed("ping -n -c 3 -i 0.3 -W 1 -s 1000 -M do")


def test_frag_needed_toward_the_client_comes_from_r2s_address_on_the_senders_side() -> None:
    chain = narrow_chain()
    chain.client.udp_socket(9999)
    sender = chain.server.udp_socket(40000)
    sender.sendto(bytes(1000), (CLIENT_IP, 9999))  # DF ("want"), too big for r2 - r1
    chain.net.run()
    errors = [f for f in wire(chain.net, "server:eth0") if f.packet.layers[2].name == "ICMP"]
    assert len(errors) == 1
    assert str(errors[0].ip.src) == "10.0.2.1" and errors[0].packet[ICMP].next_hop_mtu == 576  # as in LINUX_FACTS
    assert chain.server.path_mtu(CLIENT_IP) == 576
    linux = [f for f in lf.icmp_frames(lf.PMTU, "server:eth0") if f.packet[ICMP].type == 3]
    assert {str(f.ip.src) for f in linux} == {"10.0.2.1"}
