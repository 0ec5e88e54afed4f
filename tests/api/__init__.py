"""Tests of api/ (the tree under tests/ mirrors the code)."""
