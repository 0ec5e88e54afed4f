"""Apply Alembic migrations of the central or the edge database, on PostgreSQL or SQLite."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from db.engine import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"
KINDS = ("central", "edge")


def alembic_config(kind: str, url: str) -> Config:
    """An Alembic config for one database kind, without an alembic.ini on disk."""
    if kind not in KINDS:
        raise ValueError(f"database kind must be one of {KINDS}, not {kind!r}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / kind))
    config.set_main_option("version_locations", str(MIGRATIONS / kind / "versions"))
    # Alembic's ini interpolation treats % specially; URLs may carry %-escaped passwords.
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(kind: str, url: str, revision: str = "head") -> None:
    """Upgrade a database to a revision (default: latest)."""
    command.upgrade(alembic_config(kind, url), revision)


def downgrade(kind: str, url: str, revision: str = "base") -> None:
    """Downgrade a database to a revision (default: empty)."""
    command.downgrade(alembic_config(kind, url), revision)


def current(kind: str, url: str) -> None:
    """Print the database's current revision."""
    command.current(alembic_config(kind, url))
