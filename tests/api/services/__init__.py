"""Tests of api/services/ (the tree under tests/ mirrors the code)."""
