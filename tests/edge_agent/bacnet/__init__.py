"""Tests of edge_agent/bacnet/ (the tree under tests/ mirrors the code)."""
