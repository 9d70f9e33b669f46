"""The stdlib patch is for the simulation's thread only: another thread (a Jupyter kernel's poller) keeps real time."""

from __future__ import annotations

import threading
import time

from layersim import Network


def test_other_threads_keep_the_real_clock_and_sleep():
    net = Network(seed=1)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    outside: list[float] = []
    real_start = time.monotonic()

    def background() -> None:
        time.sleep(0.001)  # the real sleep: the simulated one would raise outside a process
        outside.append(time.monotonic())

    def program() -> float:
        worker = threading.Thread(target=background)
        worker.start()
        worker.join()
        time.sleep(2)
        return time.monotonic()

    proc = a.spawn(program)
    net.run(until="5s")
    assert proc.exception is None and proc.result == 2.0  # simulated time inside the process
    assert outside and outside[0] >= real_start + 0.001  # real time in the other thread
