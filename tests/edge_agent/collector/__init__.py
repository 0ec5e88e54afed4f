"""Tests of edge_agent/collector/ (the tree under tests/ mirrors the code)."""
