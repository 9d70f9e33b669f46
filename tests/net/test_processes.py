"""Simulated processes: results and failures, captured output, sleep order, join, the one loop, strict mode, and a
ping, a traceroute and a UDP exchange running at once with their frames interleaved on the wire."""

from __future__ import annotations

import filecmp
import time
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from layersim.app.ping import ping
from layersim.app.traceroute import traceroute
from layersim.capture import read_capture
from layersim.errors import LayersimError
from layersim.net.engine.process import ProcessError, current_process, sleep
from layersim.net.host.host import Host
from layersim.net.network import Network
from layersim.net.trace.details import ProcessNote
from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from tests.net.conftest import SERVER_IP, build_chain

MS = 1_000_000


def two_hosts(strict: bool | None = None) -> tuple[Network, Host, Host]:
    """a - b on one link."""
    net = Network(seed=3, strict=strict)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.9.0.1/24", b_ip="10.9.0.2/24")
    return net, a, b


# --- result, exception, stdout -----------------------------------------------------------------------------------

def test_result_and_done() -> None:
    net, a, _ = two_hosts()

    def work(x: int, *, y: int) -> int:
        sleep(5 * MS)
        return x * y

    proc = a.spawn(work, 6, y=7)
    assert not proc.done and proc.result is None
    net.run()
    assert proc.done and proc.result == 42 and proc.exception is None and proc.traceback is None
    assert proc.ended_ns == 5 * MS and net.now == 5 * MS
    assert proc in net.processes and proc in a.processes


def test_exception_ends_only_that_process_and_is_traced() -> None:
    net, a, b = two_hosts()
    ticks: list[int] = []

    def fails() -> None:
        sleep(2 * MS)
        raise ValueError("bad input 17")

    def keeps_going() -> str:
        for _ in range(4):
            sleep(1 * MS)
            ticks.append(net.now)
        return "finished"

    bad = a.spawn(fails, name="bad")
    good = b.spawn(keeps_going)
    net.run()
    assert bad.done and isinstance(bad.exception, ValueError) and bad.result is None
    assert "Traceback" in bad.traceback and "bad input 17" in bad.traceback and "in fails" in bad.traceback
    assert good.done and good.result == "finished" and ticks == [1 * MS, 2 * MS, 3 * MS, 4 * MS]
    notes = [e.info for e in net.trace.select(EventKind.PROCESS, node="a")]
    assert notes == [ProcessNote(bad.label, "start"), ProcessNote(bad.label, "error", "ValueError: bad input 17")]
    error_event = net.trace.select(EventKind.PROCESS, node="a")[1]
    assert error_event.time_ns == 2 * MS
    assert [e.info.what for e in net.trace.select(EventKind.PROCESS, node="b")] == ["start", "exit"]


def test_print_goes_to_the_process_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    net, a, b = two_hosts()

    def talk(word: str) -> None:
        print(f"{word} at {net.now}")
        sleep(1 * MS)
        print(word, "again")

    p1, p2 = a.spawn(talk, "one"), b.spawn(talk, "two")
    print("outside")
    net.run()
    assert p1.stdout == "one at 0\none again\n" and p2.stdout == "two at 0\ntwo again\n"
    assert capsys.readouterr().out == "outside\n"


# --- sleep, join, determinism --------------------------------------------------------------------------------

def run_sleepers(seed: int) -> list[tuple[int, str]]:
    """Three processes sleeping different amounts; the (time, name) order they woke in."""
    net = Network(seed=seed)
    host = net.add_host("h")
    order: list[tuple[int, str]] = []

    def sleeper(name: str, steps: list[int]) -> None:
        for step in steps:
            sleep(step)
            order.append((net.now, name))

    host.spawn(sleeper, "a", [3 * MS, 3 * MS])
    host.spawn(sleeper, "b", [2 * MS, 2 * MS, 2 * MS])
    host.spawn(sleeper, "c", [6 * MS], at="1ms")
    net.run()
    return order


def test_sleep_order_is_by_time_then_spawn_order() -> None:
    order = run_sleepers(1)
    assert order == [(2 * MS, "b"), (3 * MS, "a"), (4 * MS, "b"), (6 * MS, "a"), (6 * MS, "b"), (7 * MS, "c")]
    assert run_sleepers(2) == order  # nothing random in it


def test_sleep_zero_yields_but_keeps_time() -> None:
    net, a, _ = two_hosts()
    order: list[str] = []

    def first() -> None:
        order.append("first-1")
        sleep(0)
        order.append("first-2")

    def second() -> None:
        order.append("second")

    a.spawn(first)
    a.spawn(second)
    net.run()
    assert order == ["first-1", "second", "first-2"] and net.now == 0


def test_join_waits_for_the_other_process() -> None:
    net, a, b = two_hosts()
    worker = b.spawn(lambda: sleep(10 * MS) or "done", name="worker")

    def waiter() -> tuple[bool, int, object]:
        finished = worker.join()
        return finished, net.now, worker.result

    def impatient() -> tuple[bool, int]:
        return worker.join(timeout_ns=4 * MS), net.now

    w, i = a.spawn(waiter), a.spawn(impatient)
    net.run()
    assert w.result == (True, 10 * MS, "done")
    assert i.result == (False, 4 * MS)


def test_join_of_a_finished_process_returns_at_once() -> None:
    net, a, _ = two_hosts()
    quick = a.spawn(lambda: 1)

    def later() -> tuple[bool, int]:
        sleep(3 * MS)
        return quick.join(), net.now

    proc = a.spawn(later)
    net.run()
    assert proc.result == (True, 3 * MS)


# --- the one loop --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["run", "run_until_idle", "run_until"])
def test_running_the_network_inside_a_process_raises(call: str) -> None:
    net, a, _ = two_hosts(strict=True)
    runner = {"run": lambda: net.run(), "run_until_idle": lambda: net.run_until_idle(),
              "run_until": lambda: net.run_until(lambda: False)}[call]
    proc = a.spawn(runner)
    net.run()  # a ProcessError is the program's error, not a layersim bug: recorded even in strict mode
    assert isinstance(proc.exception, ProcessError) and "inside a simulated process" in str(proc.exception)


@pytest.mark.parametrize("call", ["sleep", "join"])
def test_blocking_call_outside_a_process_raises(call: str) -> None:
    net, a, _ = two_hosts()
    other = a.spawn(lambda: None)
    assert current_process() is None
    with pytest.raises(ProcessError, match="inside a process"):
        sleep(1) if call == "sleep" else other.join()
    assert net.now == 0


def test_socket_read_outside_a_process_does_not_block() -> None:
    net, a, _ = two_hosts()
    sock = a.udp_socket(5000)
    assert sock.recvfrom(timeout_ns=5 * MS) is None and sock.recv_error(5 * MS) is None
    assert net.now == 0


def test_ping_outside_a_process_runs_the_network_inside_one_does_not() -> None:
    net, a, _ = two_hosts()
    result = ping(a, "10.9.0.2", count=2)  # spawns and runs to completion
    assert result.received == 2 and net.now >= 1_000 * MS
    proc = a.spawn(lambda: ping(a, "10.9.0.2", count=1).received)
    start = net.now
    net.run()
    # blocked inside the process until its reply came; like iputils it ends then, without waiting out the timeout
    assert proc.result == 1 and 0 < proc.ended_ns - start < 1_000 * MS


# --- strict mode -----------------------------------------------------------------------------------------------

def broken_send(strict: bool) -> tuple[Network, object, object]:
    """A process whose socket send hits a bug inside layersim (Host.send_udp made uncallable), and a bystander."""
    net, a, b = two_hosts(strict=strict)
    b.udp_socket(7)

    def client() -> None:
        sock = a.udp_socket()
        sleep(1 * MS)
        sock.sendto(b"x", ("10.9.0.2", 7))

    def bystander() -> int:
        sleep(5 * MS)
        return net.now

    return net, a.spawn(client), b.spawn(bystander)


def test_strict_mode_raises_a_layersim_bug_out_of_run(monkeypatch: pytest.MonkeyPatch) -> None:
    net, client, _ = broken_send(strict=True)
    monkeypatch.setattr(Host, "send_udp", None)
    with pytest.raises(TypeError, match="not callable"):
        net.run()
    assert client.done and isinstance(client.exception, TypeError)


def test_lenient_mode_records_a_layersim_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    net, client, bystander = broken_send(strict=False)
    monkeypatch.setattr(Host, "send_udp", None)
    net.run()
    assert isinstance(client.exception, TypeError) and "sockets.py" in client.traceback
    assert bystander.result == 5 * MS
    assert net.trace.select(EventKind.PROCESS, node="a")[-1].info.what == "error"


def test_strict_mode_records_the_programs_own_error() -> None:
    net, a, _ = two_hosts(strict=True)
    proc = a.spawn(lambda: 1 / 0)
    net.run()
    assert isinstance(proc.exception, ZeroDivisionError)


def test_strict_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSIM_STRICT", "1")
    assert Network().strict is True
    monkeypatch.delenv("LAYERSIM_STRICT")
    assert Network().strict is False
    assert Network(strict=True).strict is True


# --- three programs at once ------------------------------------------------------------------------------------

def udp_server(host: Host, port: int, count: int) -> list[bytes]:
    """Answer `count` datagrams with their bytes upper-cased."""
    sock = host.udp_socket(port)
    seen = []
    for _ in range(count):
        datagram = sock.recvfrom()
        seen.append(datagram.data)
        sock.sendto(datagram.data.upper(), datagram.source)
    return seen


def udp_client(host: Host, server: str, port: int, words: list[bytes]) -> list[bytes | None]:
    """Send each word and wait up to 1 s for its answer, 300 ms apart."""
    sock = host.udp_socket()
    answers = []
    for word in words:
        sock.sendto(word, (server, port))
        answer = sock.recvfrom(timeout_ns=1_000 * MS)
        answers.append(None if answer is None else answer.data)
        sleep(300 * MS)
    return answers


def concurrent(path: Path, seed: int = 5) -> dict[str, object]:
    """c1 and c2 on a switch behind r1, then r2 and the server; ping from c1, traceroute from c2, a UDP exchange
    between c1 and the server, all at once, captured on every interface."""
    net = Network(seed=seed)
    c1, c2, r1, r2, server = (net.add_host("c1"), net.add_host("c2"), net.add_router("r1"), net.add_router("r2"),
                              net.add_host("server"))
    sw = net.add_switch("sw")
    net.link(c1, sw, a_ip="10.0.1.10/24")
    net.link(c2, sw, a_ip="10.0.1.11/24")
    net.link(r1, sw, a_ip="10.0.1.1/24")
    net.link(r1, r2, a_ip="10.0.12.1/24", b_ip="10.0.12.2/24")
    net.link(r2, server, a_ip="10.0.2.1/24", b_ip=f"{SERVER_IP}/24")
    r1.routes.add("10.0.2.0/24", via="10.0.12.2", interface="eth1")
    r2.routes.add("10.0.1.0/24", via="10.0.12.1", interface="eth0")
    net.capture(path)
    dst = IPv4Address(SERVER_IP)
    procs = {"server": server.spawn(udp_server, server, 7, 3),
             "ping": c1.spawn(ping, c1, dst, count=4, interval_ns=200 * MS),
             "traceroute": c2.spawn(traceroute, c2, dst),
             "udp": c1.spawn(udp_client, c1, SERVER_IP, 7, [b"one", b"two", b"three"])}
    net.run()
    net.close()
    return procs


def test_ping_traceroute_and_udp_at_once(tmp_path: Path) -> None:
    procs = concurrent(tmp_path / "all.pcapng")
    assert all(p.done and p.exception is None for p in procs.values())
    assert procs["server"].result == [b"one", b"two", b"three"]
    assert procs["udp"].result == [b"ONE", b"TWO", b"THREE"]
    pinged = procs["ping"].result
    assert pinged.sent == 4 and pinged.received == 4 and set(pinged.ttls.values()) == {62}
    traced = procs["traceroute"].result
    assert traced.reached and traced.path == [IPv4Address("10.0.1.1"), IPv4Address("10.0.12.2"),
                                              IPv4Address(SERVER_IP)]
    assert all(addr is not None for hop in traced.hops for addr, _ in hop.probes)
    # all three started at time 0, not one after the other
    assert {p.started_ns for p in procs.values()} == {0}


def classify(data: bytes) -> str | None:
    """Which program a frame belongs to: "ping" (echo), "trace" (probes to 33434+ and their ICMP errors),
    "udp" (port 7 both ways), else None."""
    packet = decode(data)
    names = [layer.name for layer in packet.layers]
    if names[:3] == ["Ethernet", "IPv4", "ICMP"]:
        return "ping" if packet.layers[2].type in (0, 8) else "trace"
    if names[:3] == ["Ethernet", "IPv4", "UDP"]:
        udp = packet.layers[2]
        return "udp" if 7 in (udp.sport, udp.dport) else "trace"
    return None


def test_capture_interleaves_the_programs_and_is_byte_identical_per_seed(tmp_path: Path) -> None:
    concurrent(tmp_path / "one.pcapng")
    concurrent(tmp_path / "two.pcapng")
    assert filecmp.cmp(tmp_path / "one.pcapng", tmp_path / "two.pcapng", shallow=False)
    records = [r for r in read_capture(tmp_path / "one.pcapng") if r.interface == "r1:eth1"]
    kinds = [k for k in (classify(r.data) for r in records) if k is not None]
    assert set(kinds) == {"ping", "trace", "udp"}
    runs = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert len(runs) > len(set(runs))  # some program's frames come both before and after another's
    first = {k: kinds.index(k) for k in ("ping", "trace", "udp")}
    last = {k: len(kinds) - 1 - kinds[::-1].index(k) for k in ("ping", "trace", "udp")}
    for a in first:
        for b in first:
            if a != b:
                assert first[a] < last[b], f"every {b} frame came before the first {a} frame"
    concurrent(tmp_path / "other.pcapng", seed=6)
    assert not filecmp.cmp(tmp_path / "one.pcapng", tmp_path / "other.pcapng", shallow=False)


def test_chain_processes_share_the_clock() -> None:
    chain = build_chain()
    times: list[int] = []

    def pinger() -> int:
        result = ping(chain.client, SERVER_IP, count=2, interval_ns=100 * MS)
        times.append(chain.net.now)
        return result.received

    def ticker() -> None:
        for _ in range(3):
            sleep(50 * MS)
            times.append(chain.net.now)

    p = chain.client.spawn(pinger)
    chain.server.spawn(ticker)
    chain.net.run()
    # the ticker's three ticks interleave with the ping, which ends when its second reply comes (as iputils does)
    ticks = [t for t in times if t % (50 * MS) == 0]
    pinger_end = next(t for t in times if t % (50 * MS))
    assert p.result == 2 and ticks == [50 * MS, 100 * MS, 150 * MS] and 100 * MS < pinger_end < 150 * MS


# --- processes that start processes --------------------------------------------------------------------------------

def test_a_process_spawns_and_joins_a_child_each_with_its_own_stdout() -> None:
    net, a, _ = two_hosts()

    def child(n: int) -> int:
        print("child", n)
        sleep(1_000)
        print("child done")
        return n * 2

    def parent() -> object:
        print("parent start")
        kid = a.spawn(child, 21)
        print("spawned")
        kid.join()
        print("parent got", kid.result)
        return kid

    proc = a.spawn(parent)
    net.run()
    kid = proc.result
    assert proc.stdout == "parent start\nspawned\nparent got 42\n"
    assert kid.stdout == "child 21\nchild done\n" and kid.result == 42 and net.now == 1_000
    assert kid.pid != proc.pid and a.processes == [proc, kid]


def test_spawn_in_the_past_is_refused_and_leaves_no_process() -> None:
    net, a, _ = two_hosts()
    a.spawn(sleep, 5 * MS)
    net.run()
    with pytest.raises(LayersimError, match=r"a: cannot start late at 1000000 ns, the clock is already at 5000000"):
        a.spawn(lambda: None, at="1ms", name="late")
    assert len(a.processes) == 1 and all(p.done for p in net.processes)
    on_time = a.spawn(lambda: net.now, at="7ms")
    net.run()
    assert on_time.result == 7 * MS


def test_joining_itself_is_an_error() -> None:
    net, a, _ = two_hosts()
    holder: list[object] = []

    def selfish() -> None:
        holder[0].join()

    proc = a.spawn(selfish)
    holder.append(proc)
    net.run()
    assert proc.done and isinstance(proc.exception, ProcessError)


@pytest.mark.parametrize("module", ["layersim.wire.checksum", "layersim.app.ping"])
def test_strict_mode_raises_a_bug_anywhere_in_layersim(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is ours wherever in the package it is raised (wire, app...), not only in the simulation's own files."""
    import importlib

    code = compile("def broken():\n    return 1 + None\n", importlib.import_module(module).__file__, "exec")
    namespace: dict[str, object] = {}
    exec(code, namespace)  # a function whose frames sit in that layersim module's file
    net, a, _ = two_hosts(strict=True)
    a.spawn(namespace["broken"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unsupported operand"):
        net.run()


def test_a_parked_process_shows_its_stack_and_an_ended_one_none() -> None:
    """Process.stack(): where a process waits, outermost frame first; nothing before it starts or once it ended."""
    from layersim import Network

    net = Network(seed=1)
    host = net.add_host("h")

    def waiter() -> None:
        time.sleep(5)  # the stdlib's sleep, on the simulated clock inside a process

    proc = host.spawn(waiter)
    assert proc.stack() == []
    net.run(until=1_000_000_000)
    names = [frame.f_code.co_name for frame in proc.stack()]
    assert "waiter" in names and names.index("waiter") < len(names) - 1  # waiter is outer; the wait is inner
    net.run()
    assert proc.done and proc.exception is None and proc.stack() == []


def test_kill_ends_a_parked_process_its_sockets_close_and_joiners_wake() -> None:
    """Process.kill(): a process parked in accept() ends as killed, its listening port is free again, a process
    joined on it wakes; killing one that never ran or already ended is harmless."""
    net = Network(seed=1)
    host = net.add_host("h")

    def server() -> None:
        s = host.socket.socket()
        s.bind(("0.0.0.0", 8080))
        s.listen()
        s.accept()

    woke: list[bool] = []
    proc = host.spawn(server)
    host.spawn(lambda: woke.append(proc.join()))
    later = host.spawn(server, at="10s")
    net.run(until="1s")
    assert not proc.done and proc.stack()
    proc.kill()
    assert proc.done and proc.killed and proc.exception is None and proc.stack() == []
    later.kill()  # never stepped
    assert later.done and later.killed
    net.run()
    assert woke == [True]
    assert not host.tcp.port_in_use(0, 8080)  # the listener closed with its process
    proc.kill()  # already ended: nothing happens
    assert ProcessNote(proc.label, "exit", "killed") in [e.info for e in net.trace.select(EventKind.PROCESS)]
