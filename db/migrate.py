"""Apply Alembic migrations of the central or the edge database, on PostgreSQL or SQLite."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import normalize_url
from db.errors import MigrationFailed

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
KINDS = ("central", "edge")


def alembic_config(kind: str, url: str) -> Config:
    """An Alembic config for one database kind, without an alembic.ini on disk."""
    from alembic.config import Config  # imported when used: alembic (with mako) is ~10 MB a process keeps

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
    from alembic import command

    command.upgrade(alembic_config(kind, url), revision)


async def upgrade_aside(kind: str, url: str) -> None:
    """Upgrade to the latest revision in a child process: a long-running process never loads alembic."""
    if "alembic" in sys.modules:
        await asyncio.to_thread(upgrade, kind, url)
        return
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import os, sys; from db.migrate import upgrade; upgrade(sys.argv[1], os.environ['METERIT_MIGRATE_URL'])",
        kind,
        env={**os.environ, "METERIT_MIGRATE_URL": url},  # not in argv, where any user could read a password
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await child.communicate()
    if child.returncode != 0:
        raise MigrationFailed(
            f"{kind} database migration failed: {err.decode(errors='replace').strip()[-2000:]}"
        )


def downgrade(kind: str, url: str, revision: str = "base") -> None:
    """Downgrade a database to a revision (default: empty)."""
    from alembic import command

    command.downgrade(alembic_config(kind, url), revision)


def current(kind: str, url: str) -> None:
    """Print the database's current revision."""
    from alembic import command

    command.current(alembic_config(kind, url))
