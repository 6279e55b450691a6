"""engine-throughput: throughput and evaluation-time metrics for any backend."""
