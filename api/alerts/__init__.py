"""Alerts of the central system: rules watched by a background engine, email notifications, rule admin."""
