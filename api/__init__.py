"""Central system: Strawberry GraphQL API on Starlette over PostgreSQL (or embedded SQLite)."""
