"""The edge database: its tables (models), the agent's state store and the outbox of readings."""
