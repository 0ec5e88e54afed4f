"""Alembic environment for the edge database (async engines, both dialects)."""

from db.edge.models import edge_metadata
from db.migration_env import run_environment

run_environment(edge_metadata, "alembic_version_edge")
