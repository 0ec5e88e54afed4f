"""Builders of the control service's answers (kept apart so service.py stays about lifecycle and control)."""

import time
from typing import Any

from causes import Cause, text
from edge_agent.collector.poller import Collector, MeterHealth
from edge_agent.collector.profile import DeviceProfile
from edge_agent.errors import BacnetError, ConfigError
from edge_agent.meters import MeterConfig
from edge_agent.models import MeterStatus, PointReading, TestReadResult

DEFAULT_TEST_POINTS = [{"name": "total_kwh", "instance": 0}, {"name": "current_kw", "instance": 1}]


def meter_statuses(
    rows: list[Any], health: dict[str, MeterHealth], profiles: dict[str, DeviceProfile] | None = None
) -> list[MeterStatus]:
    """Stored meters joined with the collector's live health and what it learnt about each device."""
    out = []
    for row in rows:
        h = health.get(row.external_id)
        profile = (profiles or {}).get(row.external_id)
        out.append(
            MeterStatus(
                external_id=row.external_id,
                name=row.name,
                bacnet_device_id=row.bacnet_device_id,
                bacnet_address=row.bacnet_address,
                enabled=row.enabled,
                source=row.source,
                reachable=h.reachable if h else None,
                last_error=h.last_error if h else None,
                last_error_at=h.last_error_at if h else None,
                last_seen_at=(h.last_seen_at if h else None) or row.last_reading_at,
                data_points=[p.get("name", "") for p in (row.config or {}).get("data_points", [])],
                device_profile=profile.as_dict() if profile else None,
            )
        )
    return out


async def test_read(
    collector: Collector, meter: str | None, address: str | None, points: list[dict] | None
) -> TestReadResult:
    """Read a configured meter, or an address with the given points (default total_kwh/current_kw), once."""
    config = collector.meters.get(meter) if meter else None
    if config is None:
        if not address:
            raise ConfigError(f"{text(Cause.UNKNOWN_METER, meter=meter)} and no address given")
        name = meter or address
        config = MeterConfig(id=name, name=name, bacnet_ip=address, data_points=points or DEFAULT_TEST_POINTS)
    started = time.perf_counter()
    result = TestReadResult(
        meter=config.id, address=config.address, ok=True, error=None, point_errors={}, values=[], elapsed_ms=0
    )
    try:
        values, errors, _ts = await collector.read_meter(config)
    except BacnetError as err:
        result.ok, result.error = False, str(err)
    else:
        result.point_errors = errors
        result.values = [
            PointReading(name=v.point.name, value=v.value, unit=v.unit, quality=int(v.quality))
            for v in values
        ]
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result
