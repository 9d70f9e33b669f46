"""End hosts: the host, its datagram and TCP sockets, the stdlib socket API, the fast-path packers."""
