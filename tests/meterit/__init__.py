"""Tests of meterit/ (the tree under tests/ mirrors the code)."""
