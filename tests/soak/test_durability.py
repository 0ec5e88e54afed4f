"""Durability as stated in docs/reliability.md: the outbox's SQLite settings, SIGKILL in the middle of
writes (a power cut's software half). Central's commit before acknowledgement is proven by the soak itself
(tests/e2e/test_soak.py: PostgreSQL restarted with -m immediate and workers SIGKILLed, nothing lost)."""

import asyncio
import os
import random
import signal
import subprocess
import sys

from sqlalchemy import text

from db.edge.outbox import Outbox
from db.engine import make_engine
from db.migrate import upgrade
from tests.support.central_server import REPO_ROOT
from tests.support.figures import report


async def test_outbox_runs_wal_with_synchronous_full(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    await asyncio.to_thread(upgrade, "edge", url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            # 2 = FULL: the WAL is fsynced at every commit, so a power cut loses no committed reading
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_repeated_sigkill_mid_write_keeps_the_file_sound_and_every_commit(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    await asyncio.to_thread(upgrade, "edge", url)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    rng = random.Random(24)
    kills = []
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-m", "tests.db.edge.outbox_writer", url],
                                  stdout=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)  # fmt: skip
        reported, target = 0, rng.randrange(300, 1500, 100)
        try:
            while reported < target:
                line = await asyncio.wait_for(asyncio.to_thread(writer.stdout.readline), 60)
                assert line, "writer exited early"
                reported = int(line)
        finally:
            writer.send_signal(signal.SIGKILL)  # the writer is in its next transaction by now
            writer.wait(10)
        kills.append(reported)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
        depth = await Outbox(engine).depth()
    finally:
        await engine.dispose()
    # each writer starts its numbering again, so rows collide and are skipped: the largest committed run counts
    assert depth >= max(kills) and depth % 100 == 0
    report(f"3 SIGKILLs mid-write (after {kills} acknowledged): integrity_check ok, {depth} readings kept")
