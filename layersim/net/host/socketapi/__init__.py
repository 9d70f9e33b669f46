"""The stdlib's socket API on a simulated host: sockets, the socket/select/selectors modules, scripts as __main__,
and the stdlib patch that points unmodified code at the host of the process running it."""
