"""Fresh upgrade and full downgrade of both databases, on PostgreSQL and SQLite."""

import asyncio

import pytest
from sqlalchemy import inspect

from db.central.schema import central_metadata
from db.edge.models import edge_metadata
from db.engine import make_engine
from db.migrate import downgrade, upgrade

EXPECTED = {"central": set(central_metadata.tables), "edge": set(edge_metadata.tables)}


def table_names(url: str) -> set[str]:
    """Tables in the database, without Alembic's and PostgreSQL partitions."""

    async def _read() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return {n for n in names if not n.startswith(("alembic_version", "readings_"))}

    return asyncio.run(_read())


@pytest.mark.parametrize("kind", ["central", "edge"])
def test_sqlite_upgrade_and_downgrade(kind, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/{kind}.db"
    upgrade(kind, url)
    assert EXPECTED[kind] <= table_names(url)
    downgrade(kind, url)
    assert table_names(url) == set()
    upgrade(kind, url)
    assert EXPECTED[kind] <= table_names(url)


@pytest.mark.parametrize("kind", ["central", "edge"])
def test_postgres_upgrade_and_downgrade(kind, new_pg_database):
    url = new_pg_database()
    upgrade(kind, url)
    assert EXPECTED[kind] <= table_names(url)
    downgrade(kind, url)
    assert table_names(url) == set()
    upgrade(kind, url)
    assert EXPECTED[kind] <= table_names(url)


def test_central_and_edge_keep_separate_version_tables(new_pg_database):
    """Both schemas' history must not collide when an operator points both at one server."""
    url = new_pg_database()
    upgrade("central", url)

    async def _versions() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return {n for n in names if n.startswith("alembic_version")}

    assert asyncio.run(_versions()) == {"alembic_version_central"}


def test_fold_rows_leave_room_for_their_updates_on_postgres(new_pg_database):
    """0017: the tables every fold round updates leave room on each page (HOT updates); reverted on downgrade."""
    url = new_pg_database()

    async def _options() -> dict[str, list[str] | None]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                "('energy_summary_state', 'rollup_daily', 'rollup_hourly')"
            )
            found = {name: options for name, options in rows}
        await engine.dispose()
        return found

    upgrade("central", url)
    assert asyncio.run(_options()) == {
        "energy_summary_state": ["fillfactor=50"],
        "rollup_daily": ["fillfactor=90"],
        "rollup_hourly": None,
    }
    downgrade("central", url, "0016_energy_tail_rows")
    assert set(asyncio.run(_options()).values()) == {None}
