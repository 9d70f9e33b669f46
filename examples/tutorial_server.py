"""The tutorial's HTTP server, as a tutorial prints it: answer one request with "Hello World".

Run on a laptop with `sudo python3 tutorial_server.py`, or on a simulated host with
`layersim run examples/tutorial.toml`. An optional argument repeats the body that many times, so that the
response spans several TCP segments.
"""

import socket
import sys

repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 1
body = "Hello World" * repeat

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", 80))
server.listen(1)
print("listening on port 80")

conn, address = server.accept()
print("connection from", address)
request = conn.recv(1024)
print(request.decode().splitlines()[0])
response = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n{body}"
conn.sendall(response.encode())
conn.close()
server.close()
