"""TCP option negotiation: what a SYN or SYN-ACK carries (in Linux's layout), and what the peer's SYN offered."""

from __future__ import annotations

from dataclasses import dataclass

from layersim.tcp.profile import Profile
from layersim.wire.tcp_options import MSS, NOP, SACK, SACKPermitted, TCPOption, Timestamps, WindowScale

__all__ = ["MAX_TCP_WINDOW", "TCP_MIN_MSS", "Offer", "data_options", "parse_offer", "syn_options"]

_NOP = NOP()
_SACKOK = SACKPermitted()
TCP_MIN_MSS, MAX_TCP_WINDOW = 88, 32767  # Linux: the range TCP_MAXSEG accepts (do_tcp_setsockopt), 0 unsets
TS_LENGTH = 12  # NOP NOP TS, or TS beside SACK-permitted: what timestamps take from every segment's payload room


@dataclass(frozen=True, slots=True)
class Offer:
    """The options a SYN or SYN-ACK carried: MSS (None if absent), window scale, SACK-permitted, TSval."""

    mss: int | None
    wscale: int | None
    sack_permitted: bool
    tsval: int | None


def parse_offer(options: tuple[TCPOption, ...]) -> Offer:
    """Read the handshake options of a received SYN or SYN-ACK."""
    mss = wscale = tsval = None
    sack = False
    for option in options:
        kind = type(option)
        if kind is MSS:
            mss = option.value
        elif kind is WindowScale:
            wscale = option.shift
        elif kind is SACKPermitted:
            sack = True
        elif kind is Timestamps:
            tsval = option.tsval
    return Offer(mss, wscale, sack, tsval)


def syn_options(profile: Profile, mss: int, *, wscale: int | None, sack: bool, tsval: int | None,
                tsecr: int = 0) -> tuple[TCPOption, ...]:
    """Options of a SYN (or of a SYN-ACK, offering only what the peer offered), in the profile's layout.

    Linux (tcp_options_write): MSS; then SACK-permitted + TS, or NOP NOP TS, or NOP NOP SACK-permitted; then
    NOP WS. The "rfc" layout aligns each option on 4 bytes in RFC order: MSS, NOP WS, NOP NOP SACKOK, NOP NOP TS.
    """
    out: list[TCPOption] = [MSS(mss)]
    ts = Timestamps(tsval, tsecr) if tsval is not None else None
    if profile.option_layout == "linux":
        if ts is not None:
            out += [_SACKOK, ts] if sack else [_NOP, _NOP, ts]
        elif sack:
            out += [_NOP, _NOP, _SACKOK]
        if wscale is not None:
            out += [_NOP, WindowScale(wscale)]
    else:
        if wscale is not None:
            out += [_NOP, WindowScale(wscale)]
        if sack:
            out += [_NOP, _NOP, _SACKOK]
        if ts is not None:
            out += [_NOP, _NOP, ts]
    return tuple(out)


def data_options(tsval: int | None, tsecr: int, blocks: list[tuple[int, int]] | None) -> tuple[TCPOption, ...]:
    """Options of a non-SYN segment: NOP NOP TS, then NOP NOP SACK with as many blocks as fit in 40 bytes."""
    if tsval is None:
        if not blocks:
            return ()
        return _NOP, _NOP, SACK(tuple(blocks[:4]))
    ts = Timestamps(tsval, tsecr)
    if not blocks:
        return _NOP, _NOP, ts
    return _NOP, _NOP, ts, _NOP, _NOP, SACK(tuple(blocks[:3]))


def options_length(options: tuple[TCPOption, ...]) -> int:
    """Bytes the options take on the wire, padded to 4."""
    n = 0
    for option in options:
        kind = type(option)
        if kind is NOP:
            n += 1
        elif kind is Timestamps:
            n += 10
        elif kind is SACK:
            n += 2 + 8 * len(option.blocks)
        else:
            n += len(option.encode())
    return (n + 3) & ~3
