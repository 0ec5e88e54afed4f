"""Users, login and site grants in GraphQL."""
