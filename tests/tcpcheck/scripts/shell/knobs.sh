#!/bin/bash
# Knobs for sysctl_shell_file_linux.pkt: a shell file a script names is read and interpreted like its own lines.
ip tcp_metrics flush all > /dev/null 2>&1
sysctl -q net.ipv4.tcp_timestamps=0
sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_fack=0   # FACK: a documented no-op
tc qdisc add dev tun0 root pfifo
