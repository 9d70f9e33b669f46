"""Capture taps: frames seen on simulated interfaces written to pcapng (one interface block each) or pcap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from layersim.capture import Direction, PcapngWriter, PcapWriter
from layersim.capture import Interface as CaptureInterface
from layersim.capture.pcapng import COMMENTS_KEPT, SECRETS_TLS_KEY_LOG
from layersim.errors import LayersimError
from layersim.net.trace.details import Note, note_text

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface

__all__ = ["CaptureSession"]


class CaptureSession:
    """Writes every frame sent or received on the chosen interfaces, with simulated timestamps and comments."""

    def __init__(self, path: Path, interfaces: list[Interface], epoch_ns: int = 0) -> None:
        if not interfaces:
            raise LayersimError(f"{path}: no interfaces to capture")
        self.path = path
        self.epoch_ns = epoch_ns  # simulated time 0 as nanoseconds since the Unix epoch
        self.interfaces = interfaces
        self.count = 0
        self._index = {id(iface): i for i, iface in enumerate(interfaces)}
        # (node, note) -> its comment, formatted once: a note's parts are plain values of fixed types per kind
        self._comments: dict[tuple[str, Note], str | None] = {}
        self._pcapng: PcapngWriter | None = None
        self._pcap: PcapWriter | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".pcap":
                if len(interfaces) != 1:
                    raise LayersimError(f"{path}: classic pcap holds one interface; give one (e.g. r1:eth0) or "
                                        "write .pcapng")
                self._pcap = PcapWriter(path)
            else:
                names = [CaptureInterface(i.full_name, description=f"{i.node.kind} {i.full_name} {i.mac}")
                         for i in interfaces]
                self._pcapng = PcapngWriter(path, names, comment="layersim simulation")
        except OSError as exc:
            raise LayersimError(f"{path}: cannot write capture: {exc.strerror or exc}") from None
        for iface in interfaces:
            iface.taps.append(self._tap)

    def _tap(self, time_ns: int, iface: Interface, frame: bytes, outbound: bool, note: Note | None,
             packet_id: int | None) -> None:
        if self._pcapng is not None:
            self._pcapng.write(self._index[id(iface)], self.epoch_ns + time_ns, frame,
                               comment=None if note is None else self._comment(iface.node.name, note),
                               packet_id=packet_id, direction=Direction.OUTBOUND if outbound else Direction.INBOUND)
        elif self._pcap is not None:
            self._pcap.write(self.epoch_ns + time_ns, frame)
        self.count += 1

    def add_tls_secrets(self, lines: bytes) -> None:
        """TLS key log lines (NSS format) as a Decryption Secrets Block, so Wireshark decrypts what follows (pcapng
        only: classic pcap has no place for them)."""
        if self._pcapng is not None:
            self._pcapng.write_secrets(SECRETS_TLS_KEY_LOG, lines)

    def _comment(self, node: str, note: Note) -> str | None:
        """note_text(node, note), remembered for the next frame with the same note."""
        key = (node, note)
        try:
            text = self._comments.get(key)
        except TypeError:  # a note holding something unhashable: formatted each time
            return note_text(node, note)
        if text is None:
            text = note_text(node, note)
            if len(self._comments) >= COMMENTS_KEPT:
                self._comments.clear()
            self._comments[key] = text
        return text

    def close(self) -> None:
        """Stop capturing and close the file."""
        for iface in self.interfaces:
            if self._tap in iface.taps:
                iface.taps.remove(self._tap)
        if self._pcapng is not None:
            self._pcapng.close()
            self._pcapng = None
        if self._pcap is not None:
            self._pcap.close()
            self._pcap = None
