"""Tests of db/edge/ (the tree under tests/ mirrors the code)."""
