"""The whole central schema for Alembic and its tests: every module that defines central tables, imported once."""

from db import (  # noqa: F401  (each registers its tables)
    central_models,
    energy_summary_models,
    maintenance_windows,
    report_schedules,
    rollup_models,
    tariffs,
)
from db.central_base import central_metadata

__all__ = ["central_metadata"]
