"""asyncio on simulated hosts: asyncio.run in a process gets a loop on the host's selector and simulated clock;
streams, start_server, sleep, wait_for, getaddrinfo through the simulated resolver, many coroutines at once, and
the same bytes on the wire for the same seed (issue 22)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from layersim.demo import WEB_ADDRESS, build
from layersim.net.host.socketapi.aio import SimEventLoop
from layersim.net.network import Network

HOUR = 3_600_000_000_000
REAL_FACTORY = asyncio.DefaultEventLoopPolicy._loop_factory


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()


def _echo_server(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_echo, "", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _run(client: Any, seed: int = 1) -> tuple[Network, Any]:
    """The echo server on web, `client()` on the laptop; the network and what the client returned."""
    net = build(seed, 0.0)
    net.hosts["web"].spawn(_echo_server, 7000, name="echo")
    proc = net.hosts["laptop"].spawn(client)
    net.run_until(lambda: proc.done, HOUR)
    assert proc.done, "the client did not finish"
    if proc.exception is not None:
        raise proc.exception
    return net, proc.result


async def _one_line(text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("example.com", 7000)
    writer.write(text + b"\n")
    await writer.drain()
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer


def test_echo_client_and_server_in_simulated_time() -> None:
    async def main() -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(1.5)
        slept = loop.time() - start
        answer = await _one_line(b"hello")
        return type(loop), slept, answer, loop.time() - start

    loop_type, slept, answer, total = _run(lambda: asyncio.run(main()))[1]
    assert loop_type is SimEventLoop
    assert slept == 1.5  # simulated time: exactly what was asked
    assert answer == b"HELLO\n"
    assert 1.5 < total < 2.5  # the exchange took simulated round trips, not zero time


def test_wait_for_times_out_in_simulated_time_and_passes_just_inside() -> None:
    async def main() -> tuple[bool, float, str]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            await asyncio.wait_for(asyncio.sleep(10), 0.5)
            timed_out = False
        except TimeoutError:
            timed_out = True
        waited = loop.time() - start
        done = await asyncio.wait_for(asyncio.sleep(0.25, "in time"), 0.5)
        return timed_out, waited, done

    assert _run(lambda: asyncio.run(main()))[1] == (True, 0.5, "in time")


def test_getaddrinfo_uses_the_simulated_resolver() -> None:
    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo("example.com", 80, type=socket.SOCK_STREAM)
        try:
            await loop.getaddrinfo("no-such-name.example", 80)
        except socket.gaierror as exc:
            return infos[0][4][0], type(exc).__name__
        return infos[0][4][0], "resolved"

    address, missing = _run(lambda: asyncio.run(main()))[1]
    assert address == str(WEB_ADDRESS)
    assert missing == "gaierror"


def test_many_concurrent_coroutines_in_one_process() -> None:
    async def main() -> list[bytes]:
        return await asyncio.gather(*(_one_line(b"line %d" % i) for i in range(40)))

    answers = _run(lambda: asyncio.run(main()))[1]
    assert answers == [b"LINE %d\n" % i for i in range(40)]


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    async def main() -> list[bytes]:
        return await asyncio.gather(*(_one_line(b"x" * i) for i in range(1, 6)))

    def capture(seed: int, name: str) -> bytes:
        net = build(seed, 0.0)
        net.capture(tmp_path / name)
        net.hosts["web"].spawn(_echo_server, 7000, name="echo")
        proc = net.hosts["laptop"].spawn(lambda: asyncio.run(main()))
        net.run_until(lambda: proc.done, HOUR)
        assert proc.exception is None and len(proc.result) == 5
        net.close()
        return (tmp_path / name).read_bytes()

    first = capture(3, "a.pcapng")
    assert first == capture(3, "b.pcapng")
    assert first != capture(4, "c.pcapng")  # the check can tell runs apart


def test_the_real_loop_outside_a_run() -> None:
    async def main() -> type:
        return type(asyncio.get_running_loop())

    assert _run(lambda: None)  # a run installs and removes the patch
    assert asyncio.DefaultEventLoopPolicy._loop_factory is REAL_FACTORY
    assert asyncio.run(main()) is not SimEventLoop


@pytest.mark.parametrize("n", [1, 3])
def test_several_processes_each_run_their_own_loop(n: int) -> None:
    net = build(1, 0.0)
    net.hosts["web"].spawn(_echo_server, 7000, name="echo")
    procs = [net.hosts["laptop"].spawn(lambda i=i: asyncio.run(_one_line(b"p%d" % i))) for i in range(n)]
    net.run_until(lambda: all(p.done for p in procs), HOUR)
    assert [p.exception for p in procs] == [None] * n
    assert [p.result for p in procs] == [b"P%d\n" % i for i in range(n)]


def test_run_in_executor_and_to_thread_run_in_the_process() -> None:
    async def main() -> tuple[float, str, str]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await loop.run_in_executor(None, time.sleep, 2)  # the simulated sleep: a real thread would sleep really
        address = await asyncio.to_thread(socket.gethostbyname, "example.com")
        try:
            await loop.run_in_executor(None, socket.gethostbyname, "no-such-name.example")
        except socket.gaierror as exc:
            missing = type(exc).__name__
        return loop.time() - start, address, missing

    waited, address, missing = _run(lambda: asyncio.run(main()))[1]
    assert waited >= 2
    assert address == WEB_ADDRESS
    assert missing == "gaierror"


def test_call_soon_threadsafe_from_another_thread_says_why_it_cannot() -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        loop.call_soon_threadsafe(lambda: None)  # from the loop's own thread: fine
        errors: list[str] = []

        def other() -> None:
            try:
                loop.call_soon_threadsafe(lambda: None)
            except RuntimeError as exc:
                errors.append(str(exc))

        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        return errors[0] if errors else "accepted"

    message = _run(lambda: asyncio.run(main()))[1]
    assert "another thread" in message and "laptop" in message
