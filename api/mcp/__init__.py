"""The central MCP server's tools, one registration function per domain (composed in api/mcp/server.py)."""
