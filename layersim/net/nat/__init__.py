"""NAT as netfilter hooks: connection tracking, the mapping table and MASQUERADE."""
