"""Tests of project/ (the tree under tests/ mirrors the code)."""
