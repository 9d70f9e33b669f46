"""A TCP sink for bench_tcp.py: accept one connection, read until the peer closes, print the byte count and time.

A plain socket program: it runs unchanged on a Linux host, and on a simulated host with `host.run_script`
(argv: port).
"""

import socket
import sys
import time

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
    listener.bind(("", port))
    listener.listen(1)
    connection, _peer = listener.accept()
    received = 0
    with connection:
        while chunk := connection.recv(65536):
            received += len(chunk)
            last = time.monotonic()
print(f"received {received} bytes, last at {last:.9f}")
