"""Tests of db/central/rollups/ (the tree under tests/ mirrors the code)."""
