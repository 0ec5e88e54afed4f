"""Tests of api/ingest/ (the tree under tests/ mirrors the code)."""
