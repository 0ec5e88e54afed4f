"""Tests of ui_edge/ (the tree under tests/ mirrors the code)."""
