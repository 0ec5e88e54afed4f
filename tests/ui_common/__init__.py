"""Tests of ui_common/ (the tree under tests/ mirrors the code)."""
