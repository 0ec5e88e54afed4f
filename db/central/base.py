"""The declarative base of every central table and the metadata they share (no table defined here)."""

from sqlalchemy import MetaData
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

# A registry of its own keeps central tables apart from edge tables (and from Reflex's SQLModel use).
central_metadata = MetaData()


class CentralTable(SQLModel, registry=registry(metadata=central_metadata)):
    """Base of every central table."""
