"""Tests of db/ (the tree under tests/ mirrors the code)."""
