"""The Alembic environment both databases share: each env.py names only its metadata and version table."""

import asyncio

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


def run_environment(target_metadata: MetaData, version_table: str) -> None:
    """Run the migrations Alembic asked for, offline or on a live (async) connection, for either dialect."""
    config = context.config

    def run(connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()
    elif (connection := config.attributes.get("connection")) is not None:
        run(connection)  # the caller's connection, in the caller's thread
    else:
        asyncio.run(run_async())
