"""Alembic environment for the central database (async engines, both dialects)."""

from db.central.schema import central_metadata
from db.migration_env import run_environment

run_environment(central_metadata, "alembic_version_central")
