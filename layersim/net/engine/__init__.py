"""The simulation engine: clock, nodes, interfaces, links, switches, processes and capture taps."""
