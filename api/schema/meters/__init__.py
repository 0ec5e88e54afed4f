"""Meters in GraphQL: list with points and latest values, create/update, delete."""
