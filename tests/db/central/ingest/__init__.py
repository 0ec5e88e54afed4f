"""Tests of db/central/ingest/ (the tree under tests/ mirrors the code)."""
