"""Duplicate SACK (RFC 2883): spotting one in an ACK, and undoing a reduction that only spurious
retransmissions caused (RFC 3708's idea, as Linux does it: undo_marker, undo_retrans, tcp_try_undo_dsack)."""

from __future__ import annotations

from layersim.tcp.seq import seq_le, seq_lt, seq_sub

__all__ = ["Undo", "dsack_block"]


def dsack_block(blocks: tuple[tuple[int, int], ...], ack: int) -> tuple[int, int] | None:
    """The D-SACK block of an ACK's SACK blocks, if the first one is one (RFC 2883 §4: below the cumulative ACK,
    or inside the second block; Linux tcp_check_dsack)."""
    left, right = blocks[0]
    if seq_lt(left, ack):
        return left, right
    if len(blocks) > 1 and seq_le(blocks[1][0], left) and seq_le(right, blocks[1][1]):
        return left, right
    return None


class Undo:
    """One cwnd reduction that may be undone: the window before it and the retransmissions not yet reported
    as duplicates by the receiver."""

    __slots__ = ("cwnd", "marker", "retrans", "ssthresh")

    def __init__(self, marker: int, cwnd: int, ssthresh: int) -> None:
        self.marker = marker          # SND.UNA when the reduction began
        self.cwnd = cwnd
        self.ssthresh = ssthresh
        self.retrans = 0              # segments retransmitted since, less those D-SACKed

    def dsacked(self, left: int, right: int, prior_una: int, mss: int) -> bool:
        """A D-SACK for [left, right): True when every retransmission proved needless (undo now)."""
        if self.retrans > 0 and seq_le(right, prior_una) and seq_lt(self.marker, right):
            self.retrans = max(self.retrans - max(-(-seq_sub(right, left) // mss), 1), 0)  # Linux tcp_sacktag_one
            return self.retrans == 0
        return False
