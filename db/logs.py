"""Log files of both deployables: JSON lines, rotated by size and by age, safe with several writer processes.

One line per record: `{"ts", "level", "logger", "msg"}` plus, when the record carries them (logging's
`extra=`), the correlation and request fields in CONTEXT_FIELDS, and `exc` for a traceback. The same batch id
is `batch_id` on the edge (the upload) and on central (the request and the stored batch), so one upload can
be followed across both: `grep '"batch_id": "ID"' */logs/*.log`.

Several API workers append to one file. Rotation takes an exclusive lock and re-checks the file, so one
worker renames it; the others notice the new inode and reopen (as logging's WatchedFileHandler does). The age
of a file is the time of its first line, so a restart does not reset it.
"""

import fcntl
import json
import logging
import os
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from db.clock import utcnow

CONTEXT_FIELDS = (
    "batch_id",
    "site_id",
    "method",
    "path",
    "operation",
    "status",
    "duration_ms",
    "client",
    "readings",
)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
DEFAULT_MAX_AGE_DAYS = 7.0


class JsonLineFormatter(logging.Formatter):
    """A record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line (without the newline)."""
        # Read once per record (on the process clock), so every file shows one record at one time.
        stamp = record.__dict__.setdefault("_meterit_ts", utcnow().isoformat(timespec="milliseconds"))
        line = {
            "ts": stamp,
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def first_line_time(path: Path) -> datetime | None:
    """The `ts` of a log file's first line, None when the file is empty or not ours."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096)
        return datetime.fromisoformat(json.loads(first)["ts"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SizeAndAgeRotatingHandler(RotatingFileHandler):
    """Rotates when the file passes max_bytes or its first line is older than max_age_seconds."""

    def __init__(self, path: Path, max_bytes: int, backups: int, max_age_seconds: float) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self.path = Path(path)
        self.max_age_seconds = max_age_seconds
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._born: tuple[int, datetime | None] | None = None  # (inode, first line time)
        self.setFormatter(JsonLineFormatter())

    def _inode(self) -> int | None:
        try:
            return os.stat(self.path).st_ino
        except OSError:
            return None

    def _reopen_if_moved(self) -> None:
        """Another process rotated the file: write to the new one."""
        if self.stream is not None and self._inode() != os.fstat(self.stream.fileno()).st_ino:
            self.stream.close()
            self.stream = self._open()

    def _too_old(self) -> bool:
        inode = self._inode()
        if self._born is None or self._born[0] != inode or self._born[1] is None:
            self._born = (inode, first_line_time(self.path))
        born = self._born[1]
        return born is not None and (utcnow() - born).total_seconds() > self.max_age_seconds

    def _due(self) -> bool:
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return False
        return (self.maxBytes > 0 and size >= self.maxBytes) or self._too_old()

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Whether this record goes to a fresh file."""
        self._reopen_if_moved()
        return self._due()

    def doRollover(self) -> None:
        """Rotate once across processes: under a lock, and only if the file still needs it."""
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._reopen_if_moved()
                if self._due():
                    super().doRollover()
                    self._born = None
                elif self.stream is None:
                    self.stream = self._open()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def level_number(level: str) -> int:
    """A level name's number (INFO when unknown)."""
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else logging.INFO


class Prefixes(logging.Filter):
    """Keeps records of the listed logger name prefixes."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record's logger is one of the prefixes."""
        return record.name.startswith(self.prefixes)


def add_log_files(
    log_dir: str,
    files: dict[str, tuple[str, ...] | None],
    level: str = "INFO",
    max_bytes: int = DEFAULT_MAX_BYTES,
    backups: int = DEFAULT_BACKUPS,
    max_age_days: float = DEFAULT_MAX_AGE_DAYS,
) -> list[logging.Handler]:
    """Attach one JSON-lines file per name to the root logger (None: every record; else those prefixes)."""
    directory = Path(log_dir)
    directory.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = []
    for name, prefixes in files.items():
        handler = SizeAndAgeRotatingHandler(directory / name, max_bytes, backups, max_age_days * 86400)
        handler.setLevel(level_number(level))
        if prefixes:
            handler.addFilter(Prefixes(prefixes))
        logging.getLogger().addHandler(handler)
        handlers.append(handler)
    if logging.getLogger().level > level_number(level):
        logging.getLogger().setLevel(level_number(level))
    return handlers
