"""Tests of causes/ (the tree under tests/ mirrors the code)."""
