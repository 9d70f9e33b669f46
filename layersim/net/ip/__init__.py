"""What both IP versions share: routing tables, netfilter hook points, actions, the neighbour cache."""
