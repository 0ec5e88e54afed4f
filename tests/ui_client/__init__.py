"""Tests of ui_client/ (the tree under tests/ mirrors the code)."""
