"""MLflow tracker for engine: params, metrics with steps, tags, the spec and the model as artifacts."""
