"""Seed data of `meterit bench fleet`: sites, meters, points, today's rollups and alerts, set-based in SQL."""

import asyncpg

from db.central.secrets import new_api_key

ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]

SITES_SQL = """
INSERT INTO sites (name, timezone, key_prefix, key_hash, is_active, maintenance, status, health,
                   collection_interval_seconds, allowed_networks, created_at, last_contact_at, last_heartbeat_at)
SELECT format('Site %s', lpad(n::text, 4, '0')), ($2::text[])[1 + n % 4], 'bf' || lpad(n::text, 8, '0'), 'x',
       true, n % 50 = 7,
       CASE WHEN n % 20 = 3 THEN 'offline' WHEN n % 10 = 1 THEN 'degraded' ELSE 'online' END,
       json_build_object('queue_depth', n % 37), 60, '[]', now(),
       now() - CASE WHEN n % 20 = 3 THEN interval '2 hours' ELSE (n % 5) * interval '10 seconds' END, now()
FROM generate_series(1, $1) n"""

METERS_SQL = """
INSERT INTO meters (site_id, external_id, name, enabled, discovered, reachable, last_seen_at, config, created_at)
SELECT s.id, format('meter-%s', lpad(m::text, 3, '0')), format('Meter %s', m), true, false, true, now(), '{}',
       now()
FROM sites s CROSS JOIN generate_series(1, $1) m"""

POINTS_SQL = """
INSERT INTO data_points (meter_id, name, object_type, instance, property, unit, cumulative, cov, discovered,
                         created_at)
SELECT m.id, p.name, 'analog-input', p.instance, 'present-value', p.unit, p.cumulative, false, false, now()
FROM meters m CROSS JOIN (VALUES ('total_kwh', 0, 'kilowatt-hours', true), ('power_kw', 1, 'kilowatts', false))
     AS p(name, instance, unit, cumulative)"""

# The last 24 hours of every power point (covers every zone's today), a daily curve per site.
HOURLY_SQL = """
INSERT INTO rollup_hourly (point_id, bucket, count, good_count, sum_value, min_value, max_value, reset_count,
                           gap_count)
SELECT dp.id, h, 60, 60, 60 * (10 + 5 * sin(extract(hour FROM h) / 24 * 2 * pi()) + dp.id % 7), 5, 20, 0, 0
FROM data_points dp
CROSS JOIN generate_series(date_trunc('hour', now()) - interval '24 hours', date_trunc('hour', now()),
                           interval '1 hour') h
WHERE NOT dp.cumulative"""

DAILY_SQL = """
INSERT INTO rollup_daily (point_id, day, bucket, bucket_end, count, good_count, sum_value, consumption,
                          reset_count, gap_count)
SELECT dp.id, (now() AT TIME ZONE s.timezone)::date, date_trunc('day', now()), date_trunc('day', now())
       + interval '1 day', 60, 60, 0, 20 + dp.id % 13, 0, 0
FROM data_points dp JOIN meters m ON m.id = dp.meter_id JOIN sites s ON s.id = m.site_id
WHERE dp.cumulative"""

ALERTS_SQL = """
INSERT INTO alerts (site_id, kind, severity, message, opened_at)
SELECT id, 'site_offline', 'critical', 'No heartbeat from ' || name, now() FROM sites WHERE status = 'offline'"""


async def seed_fleet(url: str, sites: int, meters_per_site: int) -> dict[str, str]:
    """Fill an empty central database; returns {'Site 0002': api key} for the site the benchmark changes."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(SITES_SQL, sites, ZONES)
            await conn.execute(METERS_SQL, meters_per_site)
            await conn.execute(POINTS_SQL)
            await conn.execute(HOURLY_SQL)
            await conn.execute(DAILY_SQL)
            await conn.execute(ALERTS_SQL)
            key, prefix, digest = new_api_key()
            await conn.execute(
                "UPDATE sites SET key_prefix = $1, key_hash = $2 WHERE name = 'Site 0002'", prefix, digest
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {"Site 0002": key}
