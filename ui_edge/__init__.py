"""On-site dashboard: a Reflex app that talks to the edge agent's local GraphQL API only."""
