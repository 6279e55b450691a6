"""``engine plot``: learning curves of one or more runs as a PNG."""
