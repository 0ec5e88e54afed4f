"""Housekeeping retention and VACUUM; pure pieces of the uploader and the meter configuration."""

from datetime import UTC, datetime, timedelta

import pytest

from db.edge.outbox import Outbox, QueuedReading, Reading
from db.edge.store import add_sync_log, list_sync_log, recent_readings, set_state
from edge_agent.errors import ConfigError
from edge_agent.housekeeping import VACUUM_STATE_KEY, run_housekeeping
from edge_agent.meters import parse_meters
from edge_agent.uploader import backoff_delay, batch_id_for


async def test_retention_and_scheduled_vacuum(edge_engine, dated_clock):
    now = dated_clock.now()
    await add_sync_log(edge_engine, {"started_at": now - timedelta(days=31), "success": True})
    await add_sync_log(edge_engine, {"started_at": now - timedelta(days=1), "success": True})
    await Outbox(edge_engine).add(
        [
            Reading("m1", "p", now - timedelta(hours=25), 1.0),
            Reading("m1", "p", now - timedelta(hours=1), 2.0),
        ]
    )
    first = await run_housekeeping(edge_engine, 30, 24, vacuum_hours=168)
    assert first["deleted"] == {"sync_log": 1, "recent_readings": 1}
    assert first["vacuumed"] is False  # a fresh schedule starts now
    assert len(await list_sync_log(edge_engine)) == 1
    assert [r.value for r in await recent_readings(edge_engine, "m1", since=now - timedelta(days=2))] == [2.0]
    await set_state(edge_engine, VACUUM_STATE_KEY, {"at": 0.0})
    assert (await run_housekeeping(edge_engine, 30, 24, vacuum_hours=168))["vacuumed"] is True


def _row(i: int, meter: str = "m1") -> QueuedReading:
    return QueuedReading(
        i, Reading(meter, "p", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i), float(i))
    )


def test_batch_id_depends_on_reading_identities_only():
    rows = [_row(i) for i in range(10)]
    same_keys_other_ids = [QueuedReading(r.id + 100, r.reading) for r in rows]
    assert batch_id_for(rows) == batch_id_for(same_keys_other_ids)
    assert batch_id_for(rows) != batch_id_for(rows[:9])
    assert batch_id_for(rows) != batch_id_for([_row(i, "m2") for i in range(10)])
    assert len(batch_id_for(rows)) <= 80


def test_backoff_is_exponential_with_jitter_and_capped():
    for attempt in range(8):
        delays = [backoff_delay(attempt, 1.0, 10.0) for _ in range(200)]
        assert all(0 <= d <= min(10.0, 2**attempt) for d in delays)
        assert len(set(delays)) > 100  # jitter


def test_meter_config_formats():
    meters = parse_meters(
        {
            "meters": [
                {
                    "id": "a",
                    "name": "A",
                    "bacnet_ip": "127.0.0.10",
                    "data_points": [{"name": "kwh", "instance": 0}],
                }
            ]
        }
    )
    assert meters[0].data_points[0].object_id == "analog-input,0"
    assert meters[0].data_points[0].property_id == "present-value"
    with pytest.raises(ConfigError):
        parse_meters({"meters": [{"id": "a", "name": "A"}]})
