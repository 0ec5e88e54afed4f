"""The whole central schema for Alembic and its tests: every module that defines central tables, imported once."""

from db import central_models, rollup_models, tariffs  # noqa: F401  (each registers its tables)
from db.central_base import central_metadata

__all__ = ["central_metadata"]
