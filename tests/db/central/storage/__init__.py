"""Tests of db/central/storage/ (the tree under tests/ mirrors the code)."""
