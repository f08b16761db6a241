"""The Redis gateway transport: requests and responses travel through Redis lists, optionally behind Sentinel."""
