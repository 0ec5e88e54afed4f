"""The edge agent's operations in GraphQL (site key in X-API-Key)."""
