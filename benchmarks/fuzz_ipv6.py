"""A million mutated IPv6 frames through the decoder, by hand: only DecodeError may come out (issue 19).

    PYTHONPATH=. python benchmarks/fuzz_ipv6.py              # 1,000,000 frames, a few minutes
    PYTHONPATH=. python benchmarks/fuzz_ipv6.py --frames 50000 --seed 7

Each frame is one of the recorded IPv6 frames (tests/data/ipv6_golden.pcap) with 1 to 4 random byte runs
overwritten, sometimes cut short or lengthened, decoded from Ethernet and from IPv6, whole and as truncated.
What decodes must re-encode to the same bytes and show without error; a DecodeError that wraps a decoder bug
("internal decoder error") counts as a failure. Exits 1 on the first other outcome, printing
the frame in hex so it can become a test.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from layersim.capture import read_capture
from layersim.errors import DecodeError
from layersim.wire import decode
from layersim.wire.ipv6 import IPv6

DATA = Path(__file__).parents[1] / "tests" / "data" / "ipv6_golden.pcap"


def mutate(frame: bytes, rng: random.Random) -> bytes:
    """The frame with 1-4 short runs overwritten by random bytes, then sometimes cut or extended."""
    out = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out))
        for i in range(at, min(len(out), at + rng.randint(1, 4))):
            out[i] = rng.randrange(256)
    if rng.random() < 0.3:
        del out[rng.randint(1, len(out)):]
    elif rng.random() < 0.1:
        out += rng.randbytes(rng.randint(1, 16))
    return bytes(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    frames = [record.data for record in read_capture(DATA)]
    rng = random.Random(args.seed)
    decoded = errors = 0
    for n in range(args.frames):
        frame = mutate(rng.choice(frames), rng)
        first, data = (None, frame) if n % 2 == 0 else (IPv6, frame[14:] or frame)
        truncated = n % 4 >= 2
        try:
            packet = decode(data, first, truncated=truncated)
        except DecodeError as exc:
            if "internal decoder error" not in str(exc):  # a decoder bug wrapped by decode(): report it
                errors += 1
                continue
            print(f"frame {n}: {exc}\n{data.hex()}", file=sys.stderr)
            return 1
        except Exception as exc:  # anything but DecodeError is a bug to report
            print(f"frame {n}: {type(exc).__name__}: {exc}\n{data.hex()}", file=sys.stderr)
            return 1
        if packet.encode() != data:
            print(f"frame {n}: re-encoding differs\n{data.hex()}", file=sys.stderr)
            return 1
        if n % 50 == 0:
            packet.show_text()
            packet.to_dict()
        decoded += 1
    print(f"{args.frames} mutated IPv6 frames: {decoded} decoded and re-encoded exactly, {errors} DecodeError, "
          "nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
