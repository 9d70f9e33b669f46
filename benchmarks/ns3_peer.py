"""ns-3's side of the bulk benchmarks: client - r1 - r2 - server in ns-3 (its pip package `ns3`), one run per process.

Run by bench_bulk.py and bench_tcp.py, or by hand for one scenario; it prints the BulkResult as JSON:

    python benchmarks/ns3_peer.py udp --datagrams 10000 [--pcap DIR]
    python benchmarks/ns3_peer.py tcp --bytes 10000000 --mss 1448 --loss 0.01 [--variant newreno|cubic] [--pcap DIR]

The links are ns-3's PointToPointNetDevice: a full-duplex link with a bandwidth, a propagation delay and a
drop-tail queue, the model layersim's Link implements. Its frames carry a 2-byte PPP header where layersim's
carry a 14-byte Ethernet header, and it needs no ARP; the pacing makes up for the size (see
bulkscenario.udp_interval_ns). ns-3's CSMA device has Ethernet framing and ARP, but its channel is a shared
half-duplex bus, a different model: in a trial of this flow over three 100 Mb/s, 1 ms CSMA links, 14% to 28% of
the datagrams never arrived, even when sent at 60% of line rate, so it cannot stand in for these links.

Packet-hops are counted, not computed: a compiled C++ sink on every device's PhyTxEnd trace source counts each
frame that finished transmission (a frame an error model then loses was still transmitted, as in layersim).
Only `Simulator::Run()` is timed. Importing ns-3 (cppyy compiles headers) takes seconds and a few hundred MiB,
so the memory figures to compare are the growth during the run and the peak, which is reset just before it.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from bulkscenario import (
    BANDWIDTH_BPS,
    DELAY_NS,
    LINKS,
    PORT,
    UDP_PAYLOAD,
    BenchError,
    BulkResult,
    Failed,
    peak_rss,
    reset_peak_rss,
    run_worker,
    tcp_scenario,
    udp_interval_ns,
    udp_scenario,
)

__all__ = ["available", "ns3_bulk_tcp", "ns3_bulk_udp", "tcp_in_process", "udp_in_process"]

SUBNETS = ("10.0.1.0", "10.0.12.0", "10.0.2.0")
TCP_SEND_SIZE = 65536  # bytes BulkSendApplication hands its socket per call (its default is 512)
TCP_STOP_S = 3600.0  # simulated-time bound on a TCP run (a transfer that stalls ends here and fails its check)
VARIANTS = {"newreno": "ns3::TcpNewReno", "cubic": "ns3::TcpCubic"}
TX_END = "/NodeList/*/DeviceList/*/$ns3::PointToPointNetDevice/PhyTxEnd"
RX_DROP = "/NodeList/*/DeviceList/*/$ns3::PointToPointNetDevice/PhyRxDrop"

# Compiled once per process by cppyy: counters the simulation calls from C++, so counting costs no Python.
_SINKS = """
namespace layersim_bench {
struct TxCounter {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  void Count(ns3::Ptr<const ns3::Packet> packet) { ++frames; bytes += packet->GetSize(); }
  void Connect(const std::string& path) {
    ns3::Config::ConnectWithoutContext(path, ns3::MakeCallback(&TxCounter::Count, this));
  }
};
struct DropCounter {
  uint64_t frames = 0;
  void Count(ns3::Ptr<const ns3::Packet>) { ++frames; }
  void Connect(const std::string& path) {
    ns3::Config::ConnectWithoutContext(path, ns3::MakeCallback(&DropCounter::Count, this));
  }
};
struct RxWatch {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  int64_t last_ns = 0;
  void Note(ns3::Ptr<const ns3::Packet> packet) {
    bytes += packet->GetSize(); ++packets; last_ns = ns3::Simulator::Now().GetNanoSeconds();
  }
  void OnSinkRx(ns3::Ptr<const ns3::Packet> packet, const ns3::Address&) { Note(packet); }
  void WatchSink(ns3::Ptr<ns3::Application> app) {
    app->TraceConnectWithoutContext("Rx", ns3::MakeCallback(&RxWatch::OnSinkRx, this));
  }
  void WatchUdpServer(ns3::Ptr<ns3::Application> app) {
    app->TraceConnectWithoutContext("Rx", ns3::MakeCallback(&RxWatch::Note, this));
  }
};
}
"""


def available() -> bool:
    """True when the `ns3` package is installed (checked without importing it, which takes seconds)."""
    return importlib.util.find_spec("ns") is not None


def _ns() -> tuple[Any, Any]:
    """Import ns-3 and compile the counters; (the `ns` namespace, the compiled `layersim_bench` namespace)."""
    import cppyy
    from ns import ns

    if not hasattr(cppyy.gbl, "layersim_bench"):
        cppyy.cppdef(_SINKS)
    return ns, cppyy.gbl.layersim_bench


# The topology ---------------------------------------------------------------------------------------------

def _build(ns: Any, pcap_dir: Path | None) -> tuple[Any, list[Any], list[Any]]:
    """client - r1 - r2 - server with global routing; (nodes, device containers, interface containers)."""
    ns.RngSeedManager.SetSeed(1)
    ns.RngSeedManager.SetRun(1)
    nodes = ns.NodeContainer()
    nodes.Create(4)
    helper = ns.PointToPointHelper()
    helper.SetDeviceAttribute("DataRate", ns.StringValue(f"{BANDWIDTH_BPS}bps"))
    helper.SetChannelAttribute("Delay", ns.StringValue(f"{DELAY_NS}ns"))
    devices = []
    for i in range(3):
        pair = ns.NodeContainer()
        pair.Add(nodes.Get(i))
        pair.Add(nodes.Get(i + 1))
        devices.append(helper.Install(pair))
    ns.InternetStackHelper().Install(nodes)
    interfaces = []
    for container, subnet in zip(devices, SUBNETS, strict=True):
        addresses = ns.Ipv4AddressHelper()
        addresses.SetBase(ns.Ipv4Address(subnet), ns.Ipv4Mask("255.255.255.0"))
        interfaces.append(addresses.Assign(container))
    ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()
    if pcap_dir is not None:
        helper.EnablePcapAll(str(pcap_dir / "ns3"))
    return nodes, devices, interfaces


def _timed_run(ns: Any, stop_s: float | None) -> tuple[float, int, int]:
    """Run the simulation; (wall seconds, RSS before, peak RSS during), the peak reset just before."""
    if stop_s is not None:
        ns.Simulator.Stop(ns.Seconds(stop_s))
    gc.collect()
    before = reset_peak_rss()
    start = time.perf_counter()
    ns.Simulator.Run()
    seconds = time.perf_counter() - start
    return seconds, before, peak_rss()


# Bulk UDP -------------------------------------------------------------------------------------------------

def ns3_bulk_udp(datagrams: int, *, interval_ns: int | None = None, pcap_dir: Path | None = None) -> BulkResult:
    """UdpClient sends `datagrams` 1472-byte datagrams, one per `interval_ns`, to a UdpServer two routers away.

    With `pcap_dir`, every device writes a pcap file there; they are complete once the process has exited.
    """
    ns, sinks = _ns()
    interval = interval_ns or udp_interval_ns()
    nodes, _devices, interfaces = _build(ns, pcap_dir)
    server = ns.UdpServerHelper(PORT).Install(nodes.Get(3))
    client = ns.UdpClientHelper(interfaces[2].GetAddress(1).ConvertTo(), PORT)
    client.SetAttribute("MaxPackets", ns.UintegerValue(datagrams))
    client.SetAttribute("Interval", ns.TimeValue(ns.NanoSeconds(interval)))
    client.SetAttribute("PacketSize", ns.UintegerValue(UDP_PAYLOAD))  # UdpClient's 12-byte sequence header included
    client.Install(nodes.Get(0)).Start(ns.Seconds(0.0))
    tx, rx = sinks.TxCounter(), sinks.RxWatch()
    tx.Connect(TX_END)
    rx.WatchUdpServer(server.Get(0))
    seconds, before, peak = _timed_run(ns, None)
    received = int(ns.DynamicCast[ns.UdpServer](server.Get(0)).GetReceived())
    frames, tx_bytes, rx_bytes, last_ns = int(tx.frames), int(tx.bytes), int(rx.bytes), int(rx.last_ns)
    ns.Simulator.Destroy()
    if received != datagrams or rx_bytes != datagrams * UDP_PAYLOAD:
        raise BenchError(f"ns-3 UDP: the server got {received} of {datagrams} datagrams ({rx_bytes} bytes)")
    if frames != LINKS * datagrams:
        raise BenchError(f"ns-3 UDP: {frames} link transmissions for {datagrams} datagrams over {LINKS} links")
    notes = [f"{tx_bytes / frames:.0f}-byte frames (PPP), one every {interval} ns"]
    return BulkResult("ns-3", udp_scenario(datagrams), seconds, frames, "PhyTxEnd counter", rx_bytes, received,
                      last_ns / 1e9, before, peak, notes=notes)


# Bulk TCP -------------------------------------------------------------------------------------------------

def ns3_bulk_tcp(total_bytes: int, mss: int, loss: float, *, variant: str = "newreno",
                 pcap_dir: Path | None = None) -> BulkResult:
    """BulkSend moves `total_bytes` to a PacketSink over TCP (MSS `mss`), losing `loss` of r1 -> r2's frames.

    ns-3's TCP defaults otherwise: SACK and timestamps on, initial window 10 segments, delayed ACK every second
    segment, 128 KiB socket buffers.
    """
    ns, sinks = _ns()
    ns.Config.SetDefault("ns3::TcpL4Protocol::SocketType", ns.TypeIdValue(ns.TypeId.LookupByName(VARIANTS[variant])))
    ns.Config.SetDefault("ns3::TcpSocket::SegmentSize", ns.UintegerValue(mss))
    nodes, devices, interfaces = _build(ns, pcap_dir)
    if loss:
        model = ns.CreateObject[ns.RateErrorModel]()
        model.SetAttribute("ErrorRate", ns.DoubleValue(loss))
        model.SetAttribute("ErrorUnit", ns.StringValue("ERROR_UNIT_PACKET"))
        devices[1].Get(1).SetAttribute("ReceiveErrorModel", ns.PointerValue(model))  # r2's side: data direction
    any_address = ns.InetSocketAddress(ns.Ipv4Address.GetAny(), PORT).ConvertTo()
    sink = ns.PacketSinkHelper("ns3::TcpSocketFactory", any_address).Install(nodes.Get(3))
    sender = ns.BulkSendHelper("ns3::TcpSocketFactory",
                               ns.InetSocketAddress(interfaces[2].GetAddress(1), PORT).ConvertTo())
    sender.SetAttribute("MaxBytes", ns.UintegerValue(total_bytes))
    sender.SetAttribute("SendSize", ns.UintegerValue(TCP_SEND_SIZE))
    sender.Install(nodes.Get(0)).Start(ns.Seconds(0.0))
    tx, rx, lost = sinks.TxCounter(), sinks.RxWatch(), sinks.DropCounter()
    tx.Connect(TX_END)
    lost.Connect(RX_DROP)
    rx.WatchSink(sink.Get(0))
    seconds, before, peak = _timed_run(ns, TCP_STOP_S)
    got = int(ns.DynamicCast[ns.PacketSink](sink.Get(0)).GetTotalRx())
    frames, dropped, last_ns = int(tx.frames), int(lost.frames), int(rx.last_ns)
    ns.Simulator.Destroy()
    if got != total_bytes:
        raise BenchError(f"ns-3 TCP: the sink got {got} of {total_bytes} bytes")
    if loss == 0 and dropped:
        raise BenchError(f"ns-3 TCP: {dropped} frames lost with no loss configured")
    return BulkResult("ns-3", tcp_scenario(total_bytes, mss, loss), seconds, frames, "PhyTxEnd counter", got, got,
                      last_ns / 1e9, before, peak, lost=dropped, notes=[variant])


# One scenario per process ---------------------------------------------------------------------------------

def udp_in_process(datagrams: int, *, capture: bool = False) -> BulkResult | Failed:
    """ns3_bulk_udp in a fresh process (writing its pcap files to a temporary directory when `capture`)."""
    return run_worker([str(Path(__file__)), "udp", "--datagrams", str(datagrams)], udp_scenario(datagrams), capture)


def tcp_in_process(total_bytes: int, mss: int, loss: float, *, variant: str = "newreno",
                   capture: bool = False) -> BulkResult | Failed:
    """ns3_bulk_tcp in a fresh process (writing its pcap files to a temporary directory when `capture`)."""
    args = [str(Path(__file__)), "tcp", "--bytes", str(total_bytes), "--mss", str(mss), "--loss", str(loss),
            "--variant", variant]
    return run_worker(args, tcp_scenario(total_bytes, mss, loss), capture)


def main(argv: list[str] | None = None) -> int:
    """Run one scenario and print its BulkResult as one line of JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("udp", "tcp"))
    parser.add_argument("--datagrams", type=int, default=10_000)
    parser.add_argument("--bytes", type=int, default=10_000_000)
    parser.add_argument("--mss", type=int, default=1448)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="newreno")
    parser.add_argument("--capture-dir", type=Path, help="write a pcap file per device into this directory")
    args = parser.parse_args(argv)
    try:
        if args.kind == "udp":
            result = ns3_bulk_udp(args.datagrams, pcap_dir=args.capture_dir)
        else:
            result = ns3_bulk_tcp(args.bytes, args.mss, args.loss, variant=args.variant, pcap_dir=args.capture_dir)
    except BenchError as exc:
        print(f"ns3_peer: check failed: {exc}", file=sys.stderr)
        return 1
    print(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
