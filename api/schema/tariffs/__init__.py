"""Time-of-use tariffs in GraphQL."""
