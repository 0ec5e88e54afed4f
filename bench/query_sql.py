"""Baselines of `meterit bench query`: each dashboard query computed from raw rows with date_trunc."""

RAW_24H = """
SELECT ts, value, quality FROM readings WHERE point_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT 10001
"""

HOURLY_30D = """
SELECT date_trunc('hour', ts, 'UTC') AS bucket, avg(value), min(value), max(value), count(*), max(quality)
FROM readings WHERE point_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1 ORDER BY 1
"""

SITE_DAILY_30D = """
SELECT point_id, date_trunc('day', ts, $4) AS day, avg(value), min(value), max(value), count(*),
       sum(CASE WHEN delta >= 0 THEN delta END)
FROM (SELECT point_id, ts, value, value - lag(value) OVER (PARTITION BY point_id ORDER BY ts) AS delta
        FROM readings WHERE point_id = ANY($1::bigint[]) AND ts >= $2 AND ts < $3) r
GROUP BY 1, 2 ORDER BY 1, 2
"""

TODAY_ENERGY = """
SELECT m.site_id, sum(CASE WHEN r.delta >= 0 THEN r.delta END)
FROM sites s JOIN meters m ON m.site_id = s.id
JOIN data_points dp ON dp.meter_id = m.id AND dp.cumulative
CROSS JOIN LATERAL (
  SELECT value - lag(value) OVER (ORDER BY ts) AS delta FROM readings
   WHERE point_id = dp.id AND ts >= date_trunc('day', $2::timestamptz, s.timezone) AND ts <= $2
) r
WHERE s.id = ANY($1::bigint[]) GROUP BY m.site_id
"""

# Summary baselines: stored consumption summed per bucket, without the energy query's rules.
QUARTER_SUMMARY = """
SELECT q, consumption, count FROM energy_quarters WHERE point_id = $1 AND q >= $2 AND q < $3 ORDER BY q
"""

LOCAL_SUMMARY = """
SELECT date_trunc($4, bucket, $5) AS b, sum(consumption), sum(count)
FROM energy_days WHERE point_id = $1 AND bucket_end > $2 AND bucket < $3 GROUP BY 1 ORDER BY 1
"""

SITE_SUMMARY = """
SELECT date_trunc($4, bucket, $5) AS b, sum(consumption), sum(count)
FROM energy_days WHERE point_id = ANY($1::bigint[]) AND bucket_end > $2 AND bucket < $3 GROUP BY 1 ORDER BY 1
"""
