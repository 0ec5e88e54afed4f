"""Tests of api/http/ (the tree under tests/ mirrors the code)."""
