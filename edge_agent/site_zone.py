"""The site's time zone as central states it (siteConfig), and the edge's clock texts in it."""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)


def zone_name(value: object) -> str | None:
    """A valid IANA zone name from siteConfig's `timezone`; None when absent or unknown here (then UTC is shown)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("central gave the site's time zone as %r, unknown here: times stay in UTC", value)
        return None
    return value


def clock_text(ts: datetime, name: str | None) -> str:
    """'14:05 CET' in the site's zone ('14:05 UTC' until the edge has heard it)."""
    return ts.astimezone(ZoneInfo(name or "UTC")).strftime("%H:%M %Z")
