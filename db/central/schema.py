"""The whole central schema for Alembic and its tests: every module that defines central tables, imported once."""

# Each import registers its module's tables on central_metadata.
import db.central.energy_summary_models
import db.central.maintenance_windows
import db.central.models
import db.central.report_schedules
import db.central.rollups.models
import db.central.tariffs  # noqa: F401
from db.central.base import central_metadata

__all__ = ["central_metadata"]
