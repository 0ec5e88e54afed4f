"""Carried rows (db/central/rollups/carried.py): folds that read back only the rows before an upload's own store
what folds reading everything back store, row for row, whatever order the uploads come in."""

import random
import struct
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.central import energy_summary
from db.central.energy_fold import PG_EPOCH_US
from db.central.energy_parts import quarter_floor
from db.central.ingest import batch as ingest
from db.central.ingest.batch import _copy_rows, ingest_batch, insert_rows
from db.central.ingest.parse import parse_readings
from db.central.models import DataPoint, Meter
from db.central.rollups import queue
from db.central.rollups.carried import carried_parts, collect
from db.central.rollups.queue import ROLLUP_PARTS, _us, flush_rollups, record_dirty
from db.clock import FixedClock, use_clock
from db.engine import session_scope
from tests.db.central.test_energy_summary import answer
from tests.db.central.test_energy_tail import kept_rows_are_stored_rows
from tests.db.central.test_native_fold import stored
from tests.db.energy.test_consumption_rules import assert_same, history, steps
from tests.support.energy import Db, make_point
from tests.support.native import require_built

ROLLOVER = 10_000.0
START = datetime(2026, 3, 28, 20, 7, tzinfo=UTC)  # Berlin springs forward within the drawn days
ENCODED_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)  # rows only encoded (_payload reads a fixed clock)


def _payload(rows: list[tuple[str, datetime, float, int]]) -> tuple[bytes, dict]:
    """The C encoder's COPY payload of (point name, ts, value, quality) rows of one meter, point ids 1, 2, …"""
    items = [
        {"meter_external_id": "m", "data_point": name, "timestamp": ts.isoformat(), "value": v, "quality": q}
        for name, ts, v, q in rows
    ]
    with use_clock(FixedClock(max(ts for _, ts, _, _ in rows) + timedelta(days=1))):  # not today's clock
        accepted, rejected = parse_readings(items)
    assert not rejected
    names = sorted({name for name, *_ in rows})
    points = {("m", name): (1, n + 1) for n, name in enumerate(names)}
    payload, _ = _copy_rows(accepted, points)
    return payload.data, points


def test_an_uploads_rows_are_split_by_part_in_the_folds_binary_forms():
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    t0 = ENCODED_AT
    rows = [(f"p{k}", t0 + timedelta(minutes=m), 10.0 * k + m / 3, m % 3) for m in range(5) for k in range(6)]
    data, points = _payload(rows)
    parts = carried_parts(data, ROLLUP_PARTS)
    assert sorted(parts) == list(range(ROLLUP_PARTS))  # point ids 1…6 fall in every part
    spans = [[[_us(t0), _us(t0 + timedelta(minutes=4)), [pid for pid in range(1, 7) if pid % ROLLUP_PARTS == part]]]
             for part in parts]  # fmt: skip
    carried = collect([(span, parts[part]) for span, part in zip(spans, parts, strict=True)])
    assert sorted(carried) == list(range(1, 7))
    for (_, name), (_, pid) in points.items():
        held = carried[pid]
        want = sorted((ts, v, q) for n, ts, v, q in rows if n == name)
        assert held.first_us == _us(want[0][0]) and held.last_us == _us(want[-1][0])
        stamps = [
            int.from_bytes(held.stamps[i : i + 8], "big", signed=True) for i in range(0, len(held.stamps), 8)
        ]
        values = [value for (value,) in struct.iter_unpack(">d", held.values)]
        qualities = [
            int.from_bytes(held.qualities[i : i + 2], "big") for i in range(0, len(held.qualities), 2)
        ]
        assert stamps == [_us(ts) - PG_EPOCH_US for ts, _, _ in want]
        assert values == [v for _, v, _ in want]
        assert qualities == [q for _, _, q in want]
    assert carried_parts(None, ROLLUP_PARTS) == {}


def test_points_queued_without_their_rows_or_with_overlapping_rows_are_read_back():
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    t0 = ENCODED_AT
    first, _ = _payload([("a", t0 + timedelta(minutes=m), float(m), 0) for m in range(10)])
    later, _ = _payload([("a", t0 + timedelta(minutes=m), float(m), 0) for m in range(10, 20)])
    overlap, _ = _payload([("a", t0 + timedelta(minutes=m), float(m), 0) for m in range(5, 15)])
    (blob,) = carried_parts(first, ROLLUP_PARTS).values()
    (next_blob,) = carried_parts(later, ROLLUP_PARTS).values()
    (overlapping,) = carried_parts(overlap, ROLLUP_PARTS).values()
    span = [[0, 1, [1]]]
    joined = collect([(span, blob), (span, next_blob)])[1]
    assert joined.first_us == _us(t0) and joined.last_us == _us(t0 + timedelta(minutes=19))
    assert len(joined.stamps) == 20 * 8 and len(joined.values) == 20 * 8 and len(joined.qualities) == 20 * 2
    assert collect([(span, blob), (span, None)]) == {}  # a duplicate-holding upload carries nothing
    assert collect([(span, blob), ([[0, 1, [1, 2]]], next_blob)]).keys() == {1}  # point 2 queued, not carried
    assert collect([(span, blob), (span, overlapping)]) == {}
    assert collect([(span, next_blob), (span, blob)]) == {1: joined}  # joined in time order, not claim order


def test_a_malformed_carried_blob_is_refused_not_read_past_its_end():
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    t0 = ENCODED_AT
    data, _ = _payload([("a", t0 + timedelta(minutes=m), float(m), 0) for m in range(3)])
    (blob,) = carried_parts(data, ROLLUP_PARTS).values()
    span = [[0, 1, [1]]]
    for broken in (
        blob[:-1],
        blob + b"\0",
        blob[:8] + b"\0\0\0\0" + blob[12:],
        blob[:8] + b"\x7f" + blob[9:],
    ):
        with pytest.raises(ValueError, match="malformed"):
            collect([(span, broken)])


async def _keys(db: Db, point: int) -> tuple[int, str]:
    async with session_scope(db.sessions) as session:
        return (
            await session.execute(
                select(Meter.site_id, Meter.external_id)
                .join(DataPoint, DataPoint.meter_id == Meter.id)
                .where(DataPoint.id == point)
            )
        ).one()


async def _upload(db: Db, point: int, batch) -> None:
    site, meter = await _keys(db, point)
    items = [
        {"meter_external_id": meter, "data_point": "total_kwh", "timestamp": s.ts.isoformat(), "value": s.value,
         "unit": "kilowatt-hours", "quality": s.quality}
        for s in batch
    ]  # fmt: skip
    async with session_scope(db.sessions) as session:
        await ingest_batch(session, site, uuid.uuid4().hex, items)


async def _unqueued(db: Db, point: int, batch) -> None:
    """Store rows without queueing them: an upload that commits after a fold claimed the queue."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point, s.ts, s.value, s.quality) for s in batch])


async def _queue(db: Db, point: int, batch) -> None:
    """Queue the range of rows stored before (that upload's queue row, seen by the next fold)."""
    async with session_scope(db.sessions) as session:
        stamps = [s.ts for s in batch]
        await record_dirty(session, 0, {point: (min(stamps), max(stamps))})


async def _run(db: Db, plan: list, zone: str, rollover: float | None, cumulative: bool) -> dict:
    """Run the plan's uploads and folds on a new point; its derived rows."""
    point = await make_point(db, timezone=zone, rollover=rollover, cumulative=cumulative)
    for kind, chunk, fold in plan:
        if kind == "unseen":  # stored among carried rows, queued only after the next fold claimed
            await _unqueued(db, point, chunk)
            await flush_rollups(db.sessions)
            await _queue(db, point, chunk)
        else:
            await _upload(db, point, chunk)
        if fold:
            await flush_rollups(db.sessions)
    await flush_rollups(db.sessions)
    assert await kept_rows_are_stored_rows(db, point)
    return await stored(db, point)


@pytest.fixture
def watched(monkeypatch):
    """How many windows the folds read only up to carried rows, and a switch to carry nothing."""
    seen = {"tails": 0, "known": 0}
    fold_ranges = energy_summary.fold_ranges

    async def counting(conn, ranges, infos, through, tails=None, newests=None, known=None, fresh=frozenset()):
        seen["tails"] += len(tails or {})
        seen["known"] += len(known or {})
        return await fold_ranges(conn, ranges, infos, through, tails, newests, known, fresh)

    monkeypatch.setattr(energy_summary, "fold_ranges", counting)
    return seen


# a register's or a power point's history, where it is cut into uploads, its site's zone, and whether it wraps
HISTORIES = {
    "value": st.floats(0, ROLLOVER - 1, allow_nan=False),
    "seed": st.integers(0, 10_000),
    "zone": st.sampled_from(["Europe/Berlin", "Asia/Kolkata", "America/New_York"]),
    "cumulative": st.booleans(),
    "wraps": st.booleans(),
}


def _uploads(drawn, value: float, seed: int, wraps: bool, most: int) -> tuple:
    """The drawn history (the rollover limit, its rows) cut at random into at most `most` uploads in time
    order, and the seeded generator that cut it; needs the C row encoder (carried rows)."""
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    rollover = ROLLOVER if wraps else None
    rows = history(drawn, START, value, rollover)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(rows)), min(most - 1, len(rows) - 1)))
    return rollover, rows, [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=False)], rng


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(steps, min_size=2, max_size=150), **HISTORIES)
def test_folds_of_carried_rows_store_what_folds_reading_back_store(
    own_db, watched, monkeypatch, drawn, value, seed, zone, cumulative, wraps
):
    rollover, rows, chunks, rng = _uploads(drawn, value, seed, wraps, 7)
    plan = []  # (what, rows, fold after it)
    for n, chunk in enumerate(chunks):
        kind = rng.choice(["upload", "upload", "upload", "late", "unseen"]) if n else "upload"
        if kind == "late" and n + 1 < len(chunks):  # the next chunk first: this one comes late
            chunks[n], chunks[n + 1] = chunks[n + 1], chunk
            kind = "upload"
        plan.append((kind, chunks[n], n == 0 or rng.random() < 0.6))
    plan.insert(rng.randint(1, len(plan)), ("upload", rows[: max(1, len(rows) // 3)], True))  # duplicates
    results, before = [], watched["tails"] + watched["known"]
    # uploads take readings up to the process clock's now + 10 min: a clock a day after the data, whatever today is
    for carry in (True, False):
        with monkeypatch.context() as patch, use_clock(FixedClock(rows[-1].ts + timedelta(days=1))):
            if not carry:
                patch.setattr(queue, "collect", lambda claimed: {})
            results.append(own_db.run(_run(own_db, plan, zone, rollover, cumulative)))
        if carry:
            carried_windows = watched["tails"] + watched["known"] - before
    assert results[0] == results[1]
    assert results[0]["energy_summary_state"]
    usable = [row.ts for row in rows if row.quality < 2]
    # quarters before the newest usable reading's are stored (queries read that one and later ones raw)
    if usable and rows[0].ts < quarter_floor(usable[-1]):
        assert results[0]["energy_quarters"]
    if chunks[0][-1].ts - chunks[0][0].ts < timedelta(days=1):
        assert carried_windows > 0  # the first upload (one window), folded alone, from its carried rows


@pytest.mark.parametrize("carry", [True, False], ids=["carried", "read back"])
def test_an_upload_committed_during_a_fold_is_folded_by_its_own_round(own_db, monkeypatch, carry):
    """fold_ranges looks for no row after the newest one claimed (energy_summary.fold_ranges newests): an
    upload that commits between the two statements, with the next usable reading, is left to its own round,
    which ends with the rows a fold that saw everything in order stores."""
    rows = history([(60, 0.5, 0)] * 50 + [(60, 0.25, 1)] * 5 + [(60, 1.5, 0)] * 40, START, 100.0, None)
    first, second, third = rows[:30], rows[30:60], rows[60:]
    sneak = {"done": False}
    fold_ranges = energy_summary.fold_ranges

    async def upload_between_bounds_and_windows(conn, *args, **kwargs):
        if sneak["point"] is not None and not sneak["done"]:
            sneak["done"] = True
            await _upload(own_db, sneak["point"], third)  # another connection: committed, queued
        return await fold_ranges(conn, *args, **kwargs)

    async def run(race: bool) -> dict:
        point = await make_point(own_db, timezone="Europe/Berlin", rollover=None, cumulative=True)
        sneak.update(point=None, done=False)
        await _upload(own_db, point, first)
        await flush_rollups(own_db.sessions)
        await _upload(own_db, point, second)
        if race:
            sneak["point"] = point
        else:
            await _upload(own_db, point, third)
        await flush_rollups(own_db.sessions)  # the race: the third upload commits inside this fold
        await flush_rollups(own_db.sessions)
        assert sneak["done"] == race  # the upload did land between the statements
        return await stored(own_db, point)

    with monkeypatch.context() as patch, use_clock(FixedClock(rows[-1].ts + timedelta(days=1))):
        patch.setattr(energy_summary, "fold_ranges", upload_between_bounds_and_windows)
        if not carry:
            patch.setattr(queue, "collect", lambda claimed: {})
        raced, in_order = own_db.run(run(True)), own_db.run(run(False))
    assert raced == in_order
    assert raced["energy_quarters"] and raced["energy_summary_state"]


async def _fold_one_upload_a_round(db: Db) -> bool:
    """One fold round claiming one queue row (CLAIM_ROWS patched to 1); whether it claimed one."""
    async with session_scope(db.sessions) as session:
        return bool(await queue.process_once(session, skip_locked=False))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(steps, min_size=6, max_size=100),
    resolution=st.sampled_from(["quarter_hour", "hour", "day"]),
    **HISTORIES,
)
def test_a_backlog_folded_an_upload_a_round_reads_only_what_it_claimed(
    own_db, watched, monkeypatch, drawn, value, seed, zone, resolution, cumulative, wraps
):
    """Uploads stored before a fold, folded one a round: each round folds what it claimed (the quarters up to
    its newest usable claimed reading's), later rounds extend the rows it kept, queries answer from the summary
    and raw rows alike meanwhile, and the end holds the rows one fold of them all stores."""
    rollover, rows, chunks, _ = _uploads(drawn, value, seed, wraps, 6)
    lo, hi = START - timedelta(hours=1), rows[-1].ts + timedelta(days=1)

    async def backlog() -> tuple[dict, list]:
        point = await make_point(own_db, timezone=zone, rollover=rollover, cumulative=cumulative)
        for chunk in chunks:
            await _upload(own_db, point, chunk)
        summary_used = []
        with monkeypatch.context() as patch:
            patch.setattr(queue, "CLAIM_ROWS", 1)
            while await _fold_one_upload_a_round(own_db):
                got, want, used = await answer(own_db, point, lo, hi, resolution, 1000, rows, False)
                assert_same(got, want)
                summary_used.append(used is not None)
        assert await kept_rows_are_stored_rows(own_db, point)
        return await stored(own_db, point), summary_used

    async def at_once() -> dict:
        point = await make_point(own_db, timezone=zone, rollover=rollover, cumulative=cumulative)
        for chunk in chunks:
            await _upload(own_db, point, chunk)
        await flush_rollups(own_db.sessions)
        return await stored(own_db, point)

    with use_clock(FixedClock(rows[-1].ts + timedelta(days=1))):
        before = watched["known"]
        (rounds, summary_used), whole = own_db.run(backlog()), own_db.run(at_once())
    assert rounds == whole
    # the queued uploads follow what was folded: once a usable reading is, queries read the summary during the
    # backlog, not every reading raw
    folded_usable = [
        any(r.quality < 2 for chunk in chunks[: n + 1] for r in chunk) for n in range(len(chunks))
    ]
    assert summary_used == folded_usable
    spans = [chunk[-1].ts - chunk[0].ts for chunk in chunks]
    if any(c.quality < 2 for c in chunks[0]) and max(spans) < timedelta(hours=12):
        assert watched["known"] > before  # some round extended the rows the one before it kept
