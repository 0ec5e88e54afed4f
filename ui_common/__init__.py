"""What both dashboards share: the GraphQL client, formatting helpers and page building blocks."""
