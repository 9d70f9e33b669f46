"""Programs that run as processes on hosts: DNS zone, server and stub resolver, an HTTP server.

Every service takes the socket module it should use as a parameter (`sock_mod`): the standard library's
`socket` on a real machine, a simulated host's socket module inside layersim.
"""
