"""The tutorial's HTTP client, as a tutorial prints it: send a GET, read until a short read, print the reply.

The loop stops when one recv() returns fewer than 4096 bytes, which the tutorial takes to mean "the server is
done". That holds while the response fits in one segment; when it spans several, a read returns what has arrived
so far and the loop stops early, losing the tail (layersim's tests show exactly that; read until recv() returns
b"" instead).
"""

import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "10.0.2.20"

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect((host, 80))
client.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

response = b""
while True:
    chunk = client.recv(4096)
    response += chunk
    if len(chunk) < 4096:
        break

print(response.decode())
print(f"({len(response)} bytes received)")
client.close()
