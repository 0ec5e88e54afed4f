"""The GraphQL schema of the central API, split by domain (edge, sites, meters, readings, alerts, users)."""
