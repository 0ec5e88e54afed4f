"""Binary COPY rows written by db/central/ingest/copy_binary.py read back exactly from PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import asyncpg

from db.central.ingest.copy_binary import encode_rows


def test_rows_round_trip_through_binary_copy(pg_empty_url):
    berlin_summer = timezone(timedelta(hours=2))
    rows = [
        (1, datetime(2026, 11, 27, 10, 0, tzinfo=UTC), 1234.5, 0),
        (2**62, datetime(2026, 11, 27, 10, 0, tzinfo=UTC), -0.25, 2),  # the same instant again (cached)
        (3, datetime(2000, 1, 1, tzinfo=UTC), 0.0, 1),
        (4, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 1e300, 0),  # before PostgreSQL's epoch
        (5, datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=berlin_summer), -1e-300, 2),
    ]

    async def run():
        conn = await asyncpg.connect(pg_empty_url.replace("+asyncpg", ""))
        try:
            await conn.execute(
                "CREATE TEMP TABLE copied (point_id bigint, ts timestamptz, value float8, quality smallint)"
            )
            data = memoryview(encode_rows(rows))
            await conn.copy_to_table("copied", source=data, format="binary")
            return [tuple(r) for r in await conn.fetch("SELECT * FROM copied ORDER BY point_id")]
        finally:
            await conn.close()

    assert asyncio.run(run()) == sorted(rows)


def test_no_rows_is_a_valid_payload():
    assert encode_rows([]) == b"PGCOPY\n\xff\r\n\x00" + bytes(8) + b"\xff\xff"
