"""Alerts: alerts, alert rules, their outlook and the demo's mailbox in GraphQL."""
