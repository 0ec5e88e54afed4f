"""Tests of api/mcp/ (the tree under tests/ mirrors the code)."""
