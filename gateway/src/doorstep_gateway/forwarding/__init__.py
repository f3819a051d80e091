"""Forwarding to the services: the upstream pool, the forwarder, rate limits, and calls made as the caller."""
