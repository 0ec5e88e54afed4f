"""Rotating log files of the agent: everything in edge.log, collection and sync also in their own files."""

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
COLLECTION_LOGGERS = ("edge_agent.collector", "edge_agent.discovery")
SYNC_LOGGERS = ("edge_agent.uploader", "edge_agent.central", "edge_agent.site_sync")


class _Prefixes(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep records of the listed logger prefixes."""
        return record.name.startswith(self.prefixes)


def _rotating(path: Path, level: int) -> RotatingFileHandler:
    handler = RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    return handler


def setup_file_logging(log_dir: str, level: str = "INFO") -> list[logging.Handler]:
    """Attach edge.log, collection.log and sync.log (10 MB × 5 each) to the root logger; returns the handlers."""
    directory = Path(log_dir)
    directory.mkdir(parents=True, exist_ok=True)
    numeric = (
        logging.getLevelName(level.upper())
        if isinstance(logging.getLevelName(level.upper()), int)
        else logging.INFO
    )
    everything = _rotating(directory / "edge.log", numeric)
    collection = _rotating(directory / "collection.log", numeric)
    collection.addFilter(_Prefixes(COLLECTION_LOGGERS))
    sync = _rotating(directory / "sync.log", numeric)
    sync.addFilter(_Prefixes(SYNC_LOGGERS))
    root = logging.getLogger()
    handlers = [everything, collection, sync]
    for handler in handlers:
        root.addHandler(handler)
    logging.getLogger("edge_agent").setLevel(numeric)
    # bacpypes3 and httpx are chatty at INFO; their warnings still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    return handlers
