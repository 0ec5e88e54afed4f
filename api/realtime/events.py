"""Events published after a commit: site status changes and new readings (payload shapes in api.realtime.pubsub)."""

import logging

from api.realtime.pubsub import PubSub
from db.central.ingest.batch import IngestOutcome
from db.central.models import Site

logger = logging.getLogger(__name__)
MAX_LATEST_PER_METER = 10
EVENT_BUDGET_BYTES = 6000  # below NOTIFY's 8000-byte limit with room for the envelope
ENTRY_BYTES, LATEST_BYTES = (
    60,
    370,
)  # upper bounds of one encoded meter entry and latest reading (max field lengths)


def site_status_payload(site: Site) -> dict:
    """The "site_status" payload of a site."""
    return {
        "site_id": site.id,
        "name": site.name,
        "status": site.status,
        "last_heartbeat_at": site.last_heartbeat_at.isoformat() if site.last_heartbeat_at else None,
        "queue_depth": (site.health or {}).get("queue_depth"),
    }


async def publish_site_status(pubsub: PubSub, site: Site) -> None:
    """Tell subscribers a site's status changed."""
    await pubsub.publish("site_status", site_status_payload(site))


def _meter_entry(meter_id: int, external_id: str, info: dict, stamps: dict) -> tuple[dict, int]:
    """A meter's part of a "readings" event, and an upper bound of its encoded size."""
    latest, size = [], ENTRY_BYTES + len(external_id)
    for (_, point), ts, value, unit, _ in list(info["latest"].values())[:MAX_LATEST_PER_METER]:
        stamp = stamps.get(ts)
        if stamp is None:  # an upload repeats a few instants across all its meters
            stamp = stamps[ts] = ts.isoformat()
        latest.append([point, stamp, value, unit])
        size += LATEST_BYTES + len(point) + len(unit or "")
    return {
        "meter_id": meter_id,
        "meter_external_id": external_id,
        "count": info["count"],
        "latest": latest,
    }, size


async def publish_readings(pubsub: PubSub, site_id: int, outcome: IngestOutcome) -> None:
    """Announce an upload's readings per meter, packed into as few events as the size limit allows."""
    if not pubsub.wants("readings"):
        return
    payloads, meters, size, stamps = [], [], 0, {}
    for (meter_id, external_id), info in outcome.per_meter().items():
        entry, entry_size = _meter_entry(meter_id, external_id, info, stamps)
        if meters and size + entry_size > EVENT_BUDGET_BYTES:
            payloads.append({"site_id": site_id, "meters": meters})
            meters, size = [], 0
        meters.append(entry)
        size += entry_size
    if meters:
        payloads.append({"site_id": site_id, "meters": meters})
    try:
        await pubsub.publish_many("readings", payloads)
    except ValueError as err:  # escaped non-ASCII names can pass the estimate: still announce the counts
        logger.warning("readings event without latest values: %s", err)
        for payload in payloads:
            payload["meters"] = [{**m, "latest": []} for m in payload["meters"]]
        await pubsub.publish_many("readings", payloads)
