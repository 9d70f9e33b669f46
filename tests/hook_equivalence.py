"""A pytest plugin for the two-way scenario run: `--noop-hooks` puts a no-op hook at every netfilter point of
every node a test builds (so every packet takes the general path), `--frames-digest FILE` writes, per test, a
digest of every frame put on a link (sender, time and bytes: what a capture of every interface holds).

`tests/test_hook_equivalence.py` runs the network scenario tests both ways and compares the digests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from layersim.net.engine.link import Link
from layersim.net.ip.hooks import HookPoint
from layersim.net.ipv4.node import IPNode


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("layersim")
    group.addoption("--noop-hooks", action="store_true",
                    help="install a no-op hook at every netfilter point of every node (the general path only)")
    group.addoption("--frames-digest", metavar="FILE",
                    help="write a JSON map test id -> digest of every frame put on a link during the test")


def _noop_hook(packet: Any) -> None:
    """Accept the packet unchanged."""
    return None


class _Recorder:
    """The digest of the frames links carry, per test id."""

    def __init__(self) -> None:
        self.current: hashlib._Hash | None = None
        self.digests: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--noop-hooks"):
        original_init = IPNode.__init__

        def init_with_hooks(self: IPNode, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            for point in HookPoint:
                self.hooks.add(point, _noop_hook, "noop")

        IPNode.__init__ = init_with_hooks  # type: ignore[method-assign]
    path = config.getoption("--frames-digest")
    if path:
        recorder = _Recorder()
        config.stash[_KEY] = (recorder, Path(path))
        transmit = Link.transmit

        def recording_transmit(self: Link, sender: Any, frame: bytes, *args: Any, **kwargs: Any) -> None:
            if recorder.current is not None:
                recorder.current.update(b"%s %d %d|" % (sender.full_name.encode(), self.clock.now, len(frame)))
                recorder.current.update(frame)
            transmit(self, sender, frame, *args, **kwargs)

        Link.transmit = recording_transmit  # type: ignore[method-assign]


_KEY = pytest.StashKey[tuple[_Recorder, Path]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--noop-hooks"):
        skip = pytest.mark.skip(reason="checks the hook table or the fast path itself")
        for item in items:
            if item.get_closest_marker("own_hooks"):
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    stashed = item.config.stash.get(_KEY, None)
    if stashed is None or (item.config.getoption("--noop-hooks") and item.get_closest_marker("own_hooks")) \
            or item.get_closest_marker("random_tls"):  # OpenSSL's own randomness: runs both ways, bytes not compared
        yield
        return
    recorder = stashed[0]
    recorder.current = hashlib.sha256()
    yield
    recorder.digests[item.nodeid] = recorder.current.hexdigest()
    recorder.current = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stashed = session.config.stash.get(_KEY, None)
    if stashed is not None:
        recorder, path = stashed
        path.write_text(json.dumps(recorder.digests, indent=0, sort_keys=True))
