"""The edge agent's local GraphQL API (Strawberry on Starlette) for the on-site dashboard."""

from edge_agent.local_api.app import LocalApiServer, create_app

__all__ = ["LocalApiServer", "create_app"]
