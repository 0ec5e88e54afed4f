"""Heartbeat to central and siteConfig download (site settings cached for offline starts)."""

import logging
from datetime import datetime

from db.edge.store import count_dead_letters, get_state, set_state
from edge_agent.central import CentralClient

logger = logging.getLogger(__name__)

CONFIG_STATE_KEY = "site_config"
SIMULATED_STATE_KEY = (
    "simulated_history"  # {"start", "end"} (ISO) of simulated readings queued here (the demo)
)


async def heartbeat_status(agent) -> dict:
    """The HeartbeatInput of the contract, from the agent's current state."""
    status = await agent.status()
    last = agent.uploader.outage.last
    status_input = {
        "agentVersion": status.agent_version,
        "queueDepth": status.queue_depth,
        "oldestQueuedAgeSeconds": status.oldest_queued_age_seconds,
        "deadLetterCount": await count_dead_letters(agent.engine),
        "collectionSuccessRate": status.collection_success_rate,
        "syncSuccessRate": status.sync_success_rate,
        "centralUnreachableSeconds": status.central_unreachable_seconds,
        "collecting": status.collecting,
        "outboxFull": status.outbox_full,
        "meters": [
            {
                "externalId": h.external_id,
                "reachable": bool(h.reachable),
                "lastError": h.last_error,
                "lastSeenAt": h.last_seen_at.isoformat() if h.last_seen_at else None,
            }
            for h in agent.collector.health.values()
            if h.reachable is not None  # not polled yet: central shows it as never answered meanwhile
        ],
    }
    if last:  # sent only when there is one, so that a central older than these fields still takes the rest
        status_input["lastCentralOutageStartedAt"] = last.started_at.isoformat()
        status_input["lastCentralOutageEndedAt"] = last.ended_at.isoformat()
    simulated = getattr(agent, "simulated", None)
    if simulated:  # sent on every heartbeat, like the outage: central keeps the widest span it heard
        status_input["simulatedFrom"] = simulated["start"]
        status_input["simulatedUntil"] = simulated["end"]
    ended = agent.alerts.to_report()
    if ended:  # likewise: the edge's ended alerts of the last day, recorded once by central
        status_input["edgeAlerts"] = [
            {
                "kind": a.kind,
                "meterExternalId": a.meter,
                "startedAt": a.started_at.isoformat(),
                "endedAt": a.ended_at.isoformat(),
                "message": a.message,
            }
            for a in ended
        ]
    return status_input


async def send_heartbeat(agent, central: CentralClient) -> dict:
    """Send one heartbeat; raises an UploadError subclass when central cannot take it."""
    return await central.heartbeat(await heartbeat_status(agent))


async def fetch_site_config(agent, central: CentralClient) -> dict:
    """Download siteConfig and cache it in agent_state."""
    config = await central.site_config()
    await set_state(agent.engine, CONFIG_STATE_KEY, config)
    return config


async def cached_site_config(agent) -> dict | None:
    """The last siteConfig downloaded, if any (used when central is unreachable at start)."""
    return await get_state(agent.engine, CONFIG_STATE_KEY)


async def record_simulated_history(engine, start: datetime, end: datetime) -> None:
    """Remember that the readings from start to end queued here are simulated (the heartbeat tells central)."""
    await set_state(engine, SIMULATED_STATE_KEY, {"start": start.isoformat(), "end": end.isoformat()})


async def simulated_history(engine) -> dict | None:
    """The span of simulated readings queued here, if any."""
    return await get_state(engine, SIMULATED_STATE_KEY)
