"""Exceptions of the database layer.

DbError
├── DatabaseUnavailable    the server cannot be reached
├── AlreadyExists          a unique name/email is taken
├── NotFound               the row asked for does not exist
├── InvalidNetwork         a network (CIDR) or address that cannot be read
└── MigrationFailed        a schema upgrade run aside (db/migrate.py upgrade_aside) failed
"""


class DbError(Exception):
    """Base of every db-layer error."""


class DatabaseUnavailable(DbError):
    """The database server cannot be reached."""


class AlreadyExists(DbError):
    """A row with the same unique key exists."""


class NotFound(DbError):
    """No such row."""


class InvalidNetwork(DbError, ValueError):
    """A network in CIDR notation or an address that cannot be read."""


class MigrationFailed(DbError):
    """A schema upgrade run in a child process failed (its error output is in the message)."""
