"""A TCP bulk sender for bench_tcp.py: connect, send N bytes, close; like ns-3's BulkSendApplication.

A plain socket program: it runs unchanged on a Linux host, and on a simulated host with `host.run_script`
(argv: server address, port, bytes).
"""

import socket
import sys
import time

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = bytes(range(256)) * 256  # 64 KiB per sendall, as the ns-3 side hands its socket 64 KiB per call
time.sleep(0.001)  # let the sink start listening
with socket.create_connection((host, port)) as connection:
    first = time.monotonic()
    left = total
    while left:
        piece = block[:left]
        connection.sendall(piece)
        left -= len(piece)
print(f"sent {total} bytes, first at {first:.9f}")
