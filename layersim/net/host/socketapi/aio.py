"""asyncio on a simulated host: an event loop whose selector is the host's and whose clock is simulated time.

`asyncio.run(main())` inside a process builds its loop through the event loop policy's `_loop_factory`, which the
stdlib patch points at `SimEventLoop` while a network runs. The loop is a `SelectorEventLoop` with three changes:
its selector is the host's `SimSelector` (so `select` blocks the process in simulated time and `loop.time()`, which
reads the patched `time.monotonic`, is the host's clock); it has no self-pipe (a process is one greenlet, so nothing
else needs to wake it; `call_soon_threadsafe` from a real thread is not supported); and `getaddrinfo` /
`getnameinfo` ask the host's resolver directly instead of in a thread pool (the loop waits for the answer).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from layersim.net.host.socketapi.select_module import SimSelector

if TYPE_CHECKING:
    from layersim.net.host.socketapi.socket_host import SocketHost

__all__ = ["SimEventLoop"]


class _LoopSelector(SimSelector):
    """The loop's selector: while its process waits, no loop is asyncio's running loop.

    asyncio keeps the running loop per thread, and every process is a greenlet of the same thread: a loop left
    running while its process waits would make another process's `asyncio.run` fail ("cannot be called from a
    running event loop") and its coroutines see the wrong loop.
    """

    def select(self, timeout: float | None = None) -> list[Any]:
        """SimSelector.select, with asyncio's running loop cleared for the wait."""
        with _suspended():
            return super().select(timeout)


class _suspended:
    """Clears asyncio's running loop for the block and puts it back after."""

    def __enter__(self) -> None:
        self.loop = asyncio._get_running_loop()
        asyncio._set_running_loop(None)

    def __exit__(self, *exc: object) -> None:
        asyncio._set_running_loop(self.loop)


class SimEventLoop(asyncio.SelectorEventLoop):
    """The asyncio event loop of a process on simulated host `host`."""

    def __init__(self, host: SocketHost) -> None:
        self.host = host
        super().__init__(_LoopSelector(host))

    def _make_self_pipe(self) -> None:
        # BaseSelectorEventLoop's self-pipe is a socketpair (AF_UNIX); a greenlet process needs no wake-up channel.
        self._ssock = self._csock = None

    def _close_self_pipe(self) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

    def _process_self_data(self, data: bytes) -> None:
        pass

    async def getaddrinfo(self, host: Any, port: Any, *, family: int = 0, type: int = 0, proto: int = 0,
                          flags: int = 0) -> list[Any]:
        """socket.getaddrinfo through the host's resolver (in simulated time, without a thread)."""
        with _suspended():
            return self.host.socket.getaddrinfo(host, port, family, type, proto, flags)

    async def getnameinfo(self, sockaddr: Any, flags: int = 0) -> tuple[str, str]:
        """socket.getnameinfo through the host's resolver."""
        with _suspended():
            return self.host.socket.getnameinfo(sockaddr, flags)

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        """loop.call_soon_threadsafe from the loop's own thread; another thread cannot wake a simulated process."""
        if self._thread_id is not None and threading.get_ident() != self._thread_id:
            raise RuntimeError(f"call_soon_threadsafe from another thread cannot wake the event loop of a process on "
                               f"simulated host {self.host.name}: run the work in the process (run_in_executor "
                               f"does) instead of a thread")
        return super().call_soon_threadsafe(callback, *args, context=context)

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Call func(*args) now, in the process (the executor is not used), and return a future of its result."""
        self._check_closed()
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except Exception as exc:  # the function's error is the future's, as an executor's would be
            future.set_exception(exc)
        return future
