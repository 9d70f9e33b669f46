"""IPv4 on a node: input, forwarding, output, ARP, ICMP, path MTU and fragmentation."""
