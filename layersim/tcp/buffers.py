"""The send buffer with its SACK scoreboard, and the receive buffer with out-of-order reassembly (RFC 2018)."""

from __future__ import annotations

from layersim.tcp.seq import seq_add, seq_sub

__all__ = ["ReceiveBuffer", "Scoreboard", "SendBuffer"]


class SendBuffer:
    """Bytes written and not yet acknowledged; byte 0 has sequence number `base`."""

    __slots__ = ("base", "capacity", "data")

    def __init__(self, base: int, capacity: int) -> None:
        self.base = base
        self.capacity = capacity
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        """Append as much of `data` as fits; how many bytes were taken."""
        n = min(len(data), self.capacity - len(self.data))
        if n > 0:
            self.data += data[:n] if n < len(data) else data
        return max(n, 0)

    def acknowledge(self, ack: int) -> int:
        """Drop bytes below `ack`; how many were dropped."""
        n = seq_sub(ack, self.base)
        if n <= 0:
            return 0
        n = min(n, len(self.data))
        del self.data[:n]  # bytearray keeps an offset: deleting from the front is cheap
        self.base = seq_add(self.base, n)
        return n

    @property
    def end(self) -> int:
        """Sequence number just past the last byte written."""
        return (self.base + len(self.data)) & 0xFFFFFFFF

    def read(self, seq: int, n: int) -> bytes:
        """Up to n bytes starting at sequence number `seq`."""
        at = seq_sub(seq, self.base)
        return bytes(self.data[at:at + n])


class Scoreboard:
    """SACKed ranges above SND.UNA, as sorted, merged (start, end) offsets from SND.UNA."""

    __slots__ = ("blocks", "una")

    def __init__(self, una: int) -> None:
        self.una = una
        self.blocks: list[list[int]] = []  # [start, end) relative to una

    def advance(self, una: int) -> None:
        """SND.UNA moved: renumber and drop what it covers."""
        shift = seq_sub(una, self.una)
        self.una = una
        if not self.blocks or shift <= 0:
            return
        kept = []
        for block in self.blocks:
            start, end = block[0] - shift, block[1] - shift
            if end > 0:
                kept.append([max(start, 0), end])
        self.blocks = kept

    def add(self, left: int, right: int, limit: int) -> bool:
        """Record a SACK block (sequence numbers); False when it is invalid or says nothing new."""
        start, end = seq_sub(left, self.una), seq_sub(right, self.una)
        if start >= end or end <= 0 or end > limit:
            return False
        start = max(start, 0)
        blocks = self.blocks
        merged = [start, end]
        out = []
        new = True
        for block in blocks:
            if block[1] < merged[0] or block[0] > merged[1]:
                out.append(block)
            else:
                if block[0] <= merged[0] and block[1] >= merged[1]:
                    new = False
                merged = [min(block[0], merged[0]), max(block[1], merged[1])]
        out.append(merged)
        out.sort()
        self.blocks = out
        return new

    def sacked_bytes(self) -> int:
        """Bytes SACKed above SND.UNA."""
        return sum(end - start for start, end in self.blocks)

    def highest(self) -> int:
        """Offset just past the highest SACKed byte (0 when none)."""
        return self.blocks[-1][1] if self.blocks else 0

    def lost_from(self, offset: int) -> int:
        """Un-SACKed bytes from `offset` up to the highest SACKed byte (RFC 6675 holes not yet retransmitted)."""
        lost = 0
        for start, end in self.blocks:
            if end <= offset:
                continue
            if start > offset:
                lost += start - offset
            offset = end
        return lost

    def hole_from(self, offset: int) -> tuple[int, int] | None:
        """The first un-SACKed range at or after `offset` that lies below the highest SACKed byte."""
        for start, end in self.blocks:
            if offset < start:
                return offset, start
            if offset < end:
                offset = end
        return None

    def clear(self) -> None:
        """Forget every block (after a retransmission timeout, RFC 2018 §8)."""
        self.blocks = []


class ReceiveBuffer:
    """In-order bytes waiting to be read, and out-of-order segments held until the gap before them fills."""

    __slots__ = ("capacity", "data", "ooo", "ooo_bytes", "recent")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.data = bytearray()
        self.ooo: list[list] = []  # [seq, bytes] blocks in sequence order, never touching each other
        self.ooo_bytes = 0
        self.recent: list[int] = []  # start seqs of blocks, most recently changed first (RFC 2018 §4)

    def free(self) -> int:
        """Room left for new data."""
        return self.capacity - len(self.data) - self.ooo_bytes

    def insert(self, rcv_nxt: int, seq: int, payload: bytes) -> None:
        """Hold an out-of-order segment (seq after rcv_nxt), merged with the blocks it overlaps or touches."""
        start = seq_sub(seq, rcv_nxt)
        end = start + len(payload)
        lo, hi = start, end
        keep, pieces = [], []
        for block in self.ooo:
            block_start = seq_sub(block[0], rcv_nxt)
            block_end = block_start + len(block[1])
            if block_end < start or block_start > end:
                keep.append(block)
                continue
            pieces.append((block_start, block[1]))
            lo, hi = min(lo, block_start), max(hi, block_end)
            self._forget(block[0])
            self.ooo_bytes -= len(block[1])
        if pieces:
            merged = bytearray(hi - lo)
            for block_start, chunk in pieces:
                merged[block_start - lo:block_start - lo + len(chunk)] = chunk
            merged[start - lo:end - lo] = payload
            payload, seq = bytes(merged), seq_add(rcv_nxt, lo)
        keep.append([seq, payload])
        keep.sort(key=lambda block: seq_sub(block[0], rcv_nxt))
        self.ooo = keep
        self.ooo_bytes += len(payload)
        self.recent.insert(0, seq)

    def _forget(self, seq: int) -> None:
        """Drop a block from the most-recent-first list."""
        if seq in self.recent:
            self.recent.remove(seq)

    def pull(self, rcv_nxt: int) -> int:
        """Move held segments that now continue the in-order data into it; the new RCV.NXT."""
        ooo = self.ooo
        while ooo:
            seq, chunk = ooo[0]
            at = seq_sub(seq, rcv_nxt)
            if at > 0:
                break
            ooo.pop(0)
            self._forget(seq)
            self.ooo_bytes -= len(chunk)
            if len(chunk) + at > 0:
                self.data += chunk[-at:] if at else chunk
                rcv_nxt = seq_add(rcv_nxt, len(chunk) + at)
        return rcv_nxt

    def sack_blocks(self) -> list[tuple[int, int]]:
        """SACK blocks, the most recently changed first (RFC 2018 §4)."""
        by_seq = {seq: (seq, seq_add(seq, len(chunk))) for seq, chunk in self.ooo}
        return [by_seq[seq] for seq in self.recent if seq in by_seq]
