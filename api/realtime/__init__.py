"""Subscriptions and what keeps workers in step: pub/sub, events, caches, session revocation."""
