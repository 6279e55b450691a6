"""The core's own features, each a plugin registered through the same hooks as external ones."""
