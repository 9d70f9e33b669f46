"""TLS on simulated hosts: a certificate authority per network and the real ssl module over simulated TCP."""
