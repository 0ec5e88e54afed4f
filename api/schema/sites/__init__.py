"""Sites and the fleet overview in GraphQL."""
