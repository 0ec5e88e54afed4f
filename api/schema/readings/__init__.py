"""Readings and energy in GraphQL."""
