"""Tests of the alert engine, email notifier, rule administration and reports."""
