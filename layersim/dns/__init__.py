"""Sans-IO DNS: zones and the authoritative answers they give (the servers and resolvers that run them are in app)."""
