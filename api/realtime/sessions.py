"""Ending a user's sessions everywhere: a "users" pub/sub event that every worker's open sockets watch."""

import logging

from api.realtime.pubsub import PubSub

logger = logging.getLogger(__name__)
CHANNEL = "users"
SITES_CHANGED = "sites_changed"


async def publish_sessions_ended(pubsub: PubSub, user_id: int) -> None:
    """Tell every worker that the user's tokens no longer work (password change, reset, logout, disabled)."""
    await pubsub.publish(CHANNEL, {"event": "sessions_ended", "user_id": user_id})
    logger.info("sessions of user %d ended", user_id)


async def publish_sites_changed(pubsub: PubSub, user_id: int) -> None:
    """Tell every worker that the user's sites changed: its open sockets close with 4403 (api/realtime/ws_sessions.py)."""
    await pubsub.publish(CHANNEL, {"event": SITES_CHANGED, "user_id": user_id})
    logger.info("sites of user %d changed", user_id)
