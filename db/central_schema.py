"""The whole central schema for Alembic and its tests: every module that defines central tables, imported once."""

# Each import registers its module's tables on central_metadata.
import db.central_models
import db.energy_summary_models
import db.maintenance_windows
import db.report_schedules
import db.rollup_models
import db.tariffs  # noqa: F401
from db.central_base import central_metadata

__all__ = ["central_metadata"]
