"""Tests of the central and edge MCP servers (in memory and over stdio)."""
