"""Merge per-interface tcpdump files into one pcapng with named interfaces, frames in time order.

Used by record_linux_facts.sh:  python3 merge_captures.py OUT.pcapng COMMENT NAME=FILE [NAME=FILE ...]
Several files may carry the same NAME (one per recording phase); they become one interface.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from layersim.capture import CaptureRecord, Interface, read_capture, write_pcapng


def merge(out: str, comment: str, named_files: list[tuple[str, str]]) -> int:
    """Write the frames of every (interface name, capture file) pair to `out`; returns the frame count."""
    names = list(dict.fromkeys(name for name, _ in named_files))
    frames: list[CaptureRecord] = []
    for name, path in named_files:
        frames.extend(replace(r, interface_id=names.index(name)) for r in read_capture(path))
    frames.sort(key=lambda frame: frame.time_ns)  # stable: equal times keep file order
    return write_pcapng(out, [Interface(name) for name in names], frames, comment=comment,
                        application="tcpdump (Linux network namespaces), merged by layersim")


def main(argv: list[str]) -> None:
    """Parse OUT COMMENT NAME=FILE... and merge."""
    out, comment, *pairs = argv
    count = merge(out, comment, [(pair.split("=", 1)[0], pair.split("=", 1)[1]) for pair in pairs])
    print(f"wrote {out}: {count} frames")


if __name__ == "__main__":
    main(sys.argv[1:])
