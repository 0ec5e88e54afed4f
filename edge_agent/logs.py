"""Log files of the agent (JSON lines, db/logs.py): everything in edge.log, collection and sync also apart."""

import logging

from db.logs import DEFAULT_BACKUPS, DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_BYTES, add_log_files, level_number

COLLECTION_LOGGERS = ("edge_agent.collector", "edge_agent.discovery")
SYNC_LOGGERS = ("edge_agent.uploader", "edge_agent.central", "edge_agent.site_sync")


def setup_file_logging(
    log_dir: str,
    level: str = "INFO",
    max_bytes: int = DEFAULT_MAX_BYTES,
    backups: int = DEFAULT_BACKUPS,
    max_age_days: float = DEFAULT_MAX_AGE_DAYS,
) -> list[logging.Handler]:
    """Attach edge.log, collection.log and sync.log (rotated by size and age) to the root logger."""
    handlers = add_log_files(
        log_dir,
        {"edge.log": None, "collection.log": COLLECTION_LOGGERS, "sync.log": SYNC_LOGGERS},
        level,
        max_bytes,
        backups,
        max_age_days,
    )
    logging.getLogger("edge_agent").setLevel(level_number(level))
    # bacpypes3 and httpx are chatty at INFO; their warnings still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    return handlers
