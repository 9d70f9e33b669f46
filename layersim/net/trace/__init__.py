"""What happened: typed trace events, drop reasons, and the queries the narrator, viz and viewer read."""
