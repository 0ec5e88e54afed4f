"""Pub/sub for subscriptions: in memory for one process, PostgreSQL LISTEN/NOTIFY across workers.

One interface: `await pubsub.publish(channel, payload)` and `async for payload in pubsub.subscribe(channel)`.
Channels and their payloads (JSON objects, under 7,900 bytes encoded):
- "site_status": {"site_id", "name", "status", "last_heartbeat_at" (ISO or null), "queue_depth"}
- "readings":    {"site_id", "meters": [{"meter_id", "meter_external_id", "count",
                   "latest": [[data_point, ts ISO, value, unit], ...]}]}  (one upload may span several events)
- "alerts":      {"event": "raised" | "resolved", "alert_id", "site_id"}
- "cache":       {"cache": "site_status" | "meter_config", "site_id" (meter_config; null: every site)}
                 (api/realtime/cache.py: a worker changed what the other workers' caches hold)
- "users":       {"event": "sessions_ended", "user_id"}  (api/realtime/sessions.py: open sockets of the user close)

`wants(channel)` tells a publisher whether any worker has a subscriber (workers announce their interest on
a control channel while they have one), so that an upload builds no readings event nobody would receive.
A worker that starts listening (at start, after a reconnect) asks the others to announce at once: it would
otherwise not publish to their subscribers until the next periodic announcement, up to 20 s later.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import orjson

from api import metrics

logger = logging.getLogger(__name__)

CHANNELS = ("site_status", "readings", "alerts", "cache", "users")
MAX_PAYLOAD_BYTES = 7900
QUEUE_SIZE = 1000
INTEREST_CHANNEL = "interest"  # control channel: payload is the name of a channel some worker listens to
INTEREST_REFRESH_SECONDS = 20.0
INTEREST_TTL_SECONDS = 60.0  # a worker that stopped announcing (gone, or no subscriber left) is forgotten
ASK_INTEREST = "?"  # on the control channel: every worker with subscribers announces them now
PG_CHANNEL_PREFIX = "meterit_"


class PubSub:
    """In-process pub/sub; the base of the PostgreSQL one, which only changes how events travel."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = {name: set() for name in CHANNELS}
        self.internal: dict[
            str, int
        ] = {}  # subscribers that are this process's own (api/realtime/cache.py), by channel

    async def start(self) -> None:
        """Begin delivering (nothing to do in memory)."""

    async def stop(self) -> None:
        """Stop delivering (nothing to do in memory)."""

    def wants(self, channel: str) -> bool:
        """True when some subscriber would receive an event published on channel now."""
        return bool(self._subscribers.get(channel))

    def _subscribed(self, channel: str) -> None:
        """Called when channel gets a subscriber in this process."""

    async def publish(self, channel: str, payload: dict) -> None:
        """Send payload to every subscriber of channel (in every worker for the PostgreSQL variant)."""
        self._deliver(channel, self._stamp(channel, payload))

    async def publish_many(self, channel: str, payloads: list[dict]) -> None:
        """Publish several payloads at once (one round trip on PostgreSQL)."""
        for payload in payloads:
            await self.publish(channel, payload)

    def _stamp(self, channel: str, payload: dict) -> dict:
        if channel not in self._subscribers:
            raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
        # wall time, not the domain clock: it measures delivery latency between worker processes
        return {**payload, "_sent": time.time()}

    def _deliver(self, channel: str, payload: dict) -> None:
        sent = payload.pop("_sent", None)
        if sent is not None:
            metrics.PUBSUB_LAG.observe(max(0.0, time.time() - sent))
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():  # a stalled subscriber loses its oldest events, never blocks the others
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(payload)

    async def subscribe(self, channel: str) -> AsyncIterator[dict]:
        """Yield every payload published on channel from now on, until the consumer stops."""
        if channel not in self._subscribers:
            raise ValueError(f"unknown channel {channel!r}")
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[channel].add(queue)
        self._subscribed(channel)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].discard(queue)


class PostgresPubSub(PubSub):
    """LISTEN/NOTIFY on a dedicated asyncpg connection, reconnected when it drops."""

    def __init__(self, dsn: str, reconnect_delay: float = 1.0) -> None:
        super().__init__()
        self._dsn = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._reconnect_delay = reconnect_delay
        self._listener = None
        self._publisher = None
        self._publish_lock = asyncio.Lock()
        self._stopping = False
        self._reconnecting: asyncio.Task | None = None
        self._interest: dict[str, float] = {}  # channel -> when some worker last announced a subscriber
        self._announcer: asyncio.Task | None = None
        self._pending: set[asyncio.Task] = set()  # announcements in flight (the loop keeps weak refs only)

    async def start(self) -> None:
        """Open the listening connection (fails loudly if PostgreSQL is unreachable at startup)."""
        await self._listen()
        self._announcer = asyncio.get_running_loop().create_task(self._announce_interest())

    def wants(self, channel: str) -> bool:
        """True when this or another worker has had a subscriber of channel in the last minute."""
        if self._subscribers.get(channel):
            return True
        seen = self._interest.get(channel)
        return seen is not None and time.monotonic() - seen < INTEREST_TTL_SECONDS

    def _subscribed(self, channel: str) -> None:
        if len(self._subscribers[channel]) == 1:  # the first one: tell the other workers at once
            self._in_background(self._notify(INTEREST_CHANNEL, [channel]))

    def _in_background(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _announce_wanted(self) -> None:
        wanted = [channel for channel, queues in self._subscribers.items() if queues]
        if wanted:
            await self._notify(INTEREST_CHANNEL, wanted)

    async def _announce_interest(self) -> None:
        while True:
            await asyncio.sleep(INTEREST_REFRESH_SECONDS)
            await self._announce_wanted()

    async def _listen(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        for channel in (*CHANNELS, INTEREST_CHANNEL):
            await conn.add_listener(PG_CHANNEL_PREFIX + channel, self._on_notify)
        conn.add_termination_listener(self._on_terminated)
        self._listener = conn
        logger.info("pub/sub listening on PostgreSQL channels %s", ", ".join(CHANNELS))
        self._in_background(self._notify(INTEREST_CHANNEL, [ASK_INTEREST]))

    def _on_notify(self, _conn, _pid, channel: str, data: str) -> None:
        channel = channel.removeprefix(PG_CHANNEL_PREFIX)
        if channel == INTEREST_CHANNEL:
            if data == ASK_INTEREST:
                self._in_background(self._announce_wanted())
            else:
                self._interest[data] = time.monotonic()
            return
        if not self._subscribers.get(channel):  # every worker hears every event: decode only when wanted
            return
        try:
            payload = orjson.loads(data)
        except ValueError:  # orjson.JSONDecodeError is one
            logger.warning("ignoring malformed notification on %s", channel)
            return
        self._deliver(channel, payload)

    def _on_terminated(self, _conn) -> None:
        if self._stopping or (self._reconnecting and not self._reconnecting.done()):
            return
        logger.warning("pub/sub listening connection lost; reconnecting")
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self._reconnect_delay
        while not self._stopping:
            try:
                await self._listen()
                logger.info("pub/sub reconnected")
                return
            except (OSError, Exception) as err:  # asyncpg raises many types while the server restarts
                logger.warning("pub/sub reconnect failed (%s); retrying in %.0f s", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def publish(self, channel: str, payload: dict) -> None:
        """NOTIFY every worker (this one included, through its own listener)."""
        await self.publish_many(channel, [payload])

    async def publish_many(self, channel: str, payloads: list[dict]) -> None:
        """NOTIFY every worker of each payload, in one statement."""
        encoded = [orjson.dumps(self._stamp(channel, p), default=str) for p in payloads]
        for item in encoded:
            if len(item) > MAX_PAYLOAD_BYTES:
                raise ValueError(f"pub/sub payload of {len(item)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        await self._notify(channel, [item.decode() for item in encoded])

    async def _notify(self, channel: str, data: list[str]) -> None:
        import asyncpg

        async with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.is_closed():
                        self._publisher = await asyncpg.connect(self._dsn)
                    await self._publisher.execute(
                        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
                        PG_CHANNEL_PREFIX + channel,
                        data,
                    )
                    return
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                    self._publisher = None
                    if attempt == 2:
                        logger.warning("pub/sub publish on %s lost: %s", channel, err)

    async def stop(self) -> None:
        """Close both connections."""
        self._stopping = True
        for task in (self._reconnecting, self._announcer):
            if task:
                task.cancel()
        for conn in (self._listener, self._publisher):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)


def make_pubsub(database_url: str) -> PubSub:
    """LISTEN/NOTIFY on PostgreSQL (every worker sees every event), in memory otherwise."""
    if database_url.startswith("postgresql"):
        return PostgresPubSub(database_url)
    return PubSub()
