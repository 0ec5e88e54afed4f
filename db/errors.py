"""Exceptions of the database layer.

DbError
├── DatabaseUnavailable    the server cannot be reached
├── AlreadyExists          a unique name/email is taken
└── NotFound               the row asked for does not exist
"""


class DbError(Exception):
    """Base of every db-layer error."""


class DatabaseUnavailable(DbError):
    """The database server cannot be reached."""


class AlreadyExists(DbError):
    """A row with the same unique key exists."""


class NotFound(DbError):
    """No such row."""
