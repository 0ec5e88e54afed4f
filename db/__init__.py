"""Database layer shared by central and edge: tables, engines, data access, migrations (no HTTP/GraphQL)."""
