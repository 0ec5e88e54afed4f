"""Maintenance windows in GraphQL."""
