"""bench/cpu.py: the PostgreSQL share of a phase counts the backends that exit during it."""

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from bench.cpu import CpuMeter, parent_pid

BURN = "SELECT count(*) FROM generate_series(1, 3000000)"  # ~0.2 s of one backend's CPU


def test_a_backend_that_exits_during_the_phase_still_counts(pg_empty_url):
    url = make_url(pg_empty_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> tuple[float, float]:
        probe = await asyncpg.connect(dsn)
        try:
            postmaster = parent_pid(await probe.fetchval("SELECT pg_backend_pid()"))
        finally:
            await probe.close()
        meter = CpuMeter(None, postmaster, url.database)
        meter.start()
        conn = await asyncpg.connect(dsn)  # born and gone within the phase, as a pool's overflow connection
        try:
            burned = await conn.fetchval(BURN)
        finally:
            await conn.close()
        await asyncio.sleep(0.3)  # the postmaster reaps it
        return burned, meter.stop().postgres

    burned, postgres = asyncio.run(run())
    assert burned == 3_000_000
    assert postgres > 0.02  # counted: live backends alone gave ~0 for it
