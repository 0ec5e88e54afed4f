"""Hourly and daily rollups of readings: tables, SQL, incremental folding and its queue."""
