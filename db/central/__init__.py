"""The central database: one metadata (schema.py) over its tables, and the stores that use them."""
