"""PostgreSQL's built-in array types, made known to each new asyncpg connection from one lookup per process.

asyncpg learns an array type (bigint[], timestamptz[], ...) from a recursive catalog query the first time a
connection meets it, one query per statement that brings new types; the query costs ~6 ms, nearly all of it
planning. The summary fold binds array types, and the pool opens connections as load comes and goes
(its overflow ones close when returned), so `meterit bench ingest` ran 33 such queries, 0.22 s of
PostgreSQL time per run of 1M readings, a sixth of the fold statements' own. Here the first connection
of a process asks for every array type at once and later connections take the same answer without a query.

The fast path uses two asyncpg internals (Connection._introspect_types, the protocol's settings); if either
is missing (another asyncpg), nothing is preloaded and asyncpg looks types up itself, as before.
"""

import logging

logger = logging.getLogger(__name__)

# pg_type's fixed OIDs (src/include/catalog/pg_type.dat) of the array types the project binds or reads
ARRAY_OIDS = (
    199,  # json[]
    1000,  # bool[]
    1001,  # bytea[]
    1005,  # smallint[]
    1007,  # int[]
    1009,  # text[]
    1015,  # varchar[]
    1016,  # bigint[]
    1021,  # real[]
    1022,  # float8[]
    1115,  # timestamp[]
    1182,  # date[]
    1185,  # timestamptz[]
    1231,  # numeric[]
    2951,  # uuid[]
    3807,  # jsonb[]
)
LOOKUP_TIMEOUT_SECONDS = 10.0

_types: list | None = None  # the rows of this process's one lookup


async def preload_array_codecs(conn) -> None:
    """Give an asyncpg connection the codecs of ARRAY_OIDS (looked up on the first connection only)."""
    global _types
    try:
        settings = conn._protocol.get_settings()
        if _types is None:
            types, _ = await conn._introspect_types(list(ARRAY_OIDS), LOOKUP_TIMEOUT_SECONDS)
            _types = list(types)
        settings.register_data_types(_types)
    except AttributeError as err:  # another asyncpg: it looks types up per connection itself
        logger.debug("array codecs not preloaded: %s", err)


def on_connect(dbapi_connection, _record) -> None:
    """SQLAlchemy "connect" listener of PostgreSQL engines (db/engine.py make_engine)."""
    dbapi_connection.run_async(preload_array_codecs)
