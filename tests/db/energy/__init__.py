"""Tests of db/energy/ (the tree under tests/ mirrors the code)."""
