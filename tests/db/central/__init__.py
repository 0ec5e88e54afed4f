"""Tests of db/central/ (the tree under tests/ mirrors the code)."""
