"""`meterit bench live`: upload accepted → websocket subscriber received, with 1 and with 100 subscribers.

Two API workers (`meterit api --workers 2`) on a throwaway PostgreSQL database. Subscribers speak
graphql-transport-ws with a plain `websockets` client (one process, orjson), each subscribed to
`readingsAdded` of the bench's site; connections open 20 ms apart, so both workers get some. An uploader
posts the edge's document at a steady rate, one reading per upload whose value numbers the upload; an
upload is accepted when its HTTP answer arrives. Latency = a subscriber's receipt − acceptance (negative
when the event overtook the answer); lost = (subscriber, upload) pairs never received. One subscriber is
the baseline, measured first in the same run.
"""

import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta

import httpx2 as httpx
import orjson
import websockets

from db.clock import utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT

TARGET_P95_MS = 20.0
ADDED = "subscription($s: ID) { readingsAdded(siteId: $s) { count latest { value } } }"


def register(benches) -> None:
    """Add `bench live`."""
    parser = benches.add_parser(
        "live", help="upload → websocket subscriber latency with 1 and 100 subscribers"
    )
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--uploads", type=int, default=200, help="uploads per phase (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="uploads per second (default 20)")
    parser.set_defaults(handler=lambda args: asyncio.run(run(args)))


class Subscriber:
    """One graphql-transport-ws connection subscribed to readingsAdded of a site; notes when each value came."""

    def __init__(self, ws_url: str, token: str, site_id: int):
        self.ws_url, self.token, self.site_id = ws_url, token, site_id
        self.received: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        """Connect, subscribe, record events until cancelled."""
        async with websockets.connect(self.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            await ws.send(orjson.dumps(init).decode())
            await ws.recv()  # connection_ack
            subscribe = {"query": ADDED, "variables": {"s": str(self.site_id)}}
            await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": subscribe}).decode())
            self.ready.set()
            async for message in ws:
                now = time.perf_counter()
                data = orjson.loads(message)
                if data.get("type") == "ping":
                    await ws.send('{"type":"pong"}')
                elif data.get("type") == "next":
                    for reading in data["payload"]["data"]["readingsAdded"]["latest"]:
                        self.received.setdefault(int(reading["value"]), now)


async def _phase(
    server, token: str, key: str, site_id: int, subscribers: int, uploads: int, rate: float
) -> dict:
    subs = [Subscriber(server.ws_url, token, site_id) for _ in range(subscribers)]
    for sub in subs:
        sub.task = asyncio.create_task(sub.run())
        await asyncio.sleep(0.02)
    await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subs)), 60)
    await asyncio.sleep(1.5)  # the workers announce their interest before the first upload
    accepted: dict[int, float] = {}
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    meter = f"live-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(headers={"X-API-Key": key}, timeout=30) as client:
        began = time.perf_counter()
        for n in range(1, uploads + 1):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            item = {
                "meter_external_id": meter,
                "data_point": "total_kwh",
                "timestamp": (start + timedelta(seconds=n)).isoformat(),
                "value": float(n),
                "unit": "kWh",
                "quality": 0,
            }
            body = {
                "query": UPLOAD_READINGS_DOCUMENT,
                "variables": {"batch": {"batchId": uuid.uuid4().hex, "readings": [item]}},
            }
            answer = await client.post(
                server.url, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
            )
            accepted[n] = time.perf_counter()
            if answer.status_code != 200 or answer.json()["data"]["uploadReadings"].get("new") != 1:
                raise RuntimeError(f"upload {n} not stored: {answer.text[:200]}")
    await asyncio.sleep(3.0)  # stragglers
    for sub in subs:
        sub.task.cancel()
    await asyncio.gather(*(s.task for s in subs), return_exceptions=True)
    latencies = [
        (sub.received[n] - at) * 1000 for sub in subs for n, at in accepted.items() if n in sub.received
    ]
    lost = sum(1 for sub in subs for n in accepted if n not in sub.received)
    ordered = sorted(latencies) or [float("nan")]
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max": ordered[-1],
        "lost": lost,
        "expected": subscribers * uploads,
    }


async def run(args) -> int:
    """Both phases on one server; prints each beside the other."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from db.migrate import upgrade
    from tests.api.conftest import login, new_site, new_user
    from tests.support.central_server import CentralServer
    from tests.support.pg import create_database, drop_database

    name = f"meterit_bench_live_{os.getpid()}"
    url = await create_database(name)
    server = CentralServer(
        url,
        workers=2,
        env={"RATE_LIMIT_PER_MINUTE": "1000000"},
        log_path=f"/tmp/{name}.log",
        startup_timeout=120,
    )
    print("load average at start: {:.1f} {:.1f} {:.1f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))
    try:
        await asyncio.to_thread(upgrade, "central", url)
        site_id, key = await new_site(url)
        email = await new_user(url, sites=(site_id,))  # a viewer granted the bench site
        await asyncio.to_thread(server.start)
        token = await login(server.url, email)
        print(f"2 API workers, {args.uploads} uploads at {args.rate:g}/s per phase, one reading each:")
        worst = None
        for count in (1, args.subscribers):
            r = await _phase(server, token, key, site_id, count, args.uploads, args.rate)
            print(
                f"  {count:3d} subscriber(s): upload accepted -> received p50 {r['p50']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms; lost {r['lost']} of {r['expected']}"
            )
            worst = r
        verdict = "met" if worst["p95"] < TARGET_P95_MS and worst["lost"] == 0 else "MISSED"
        print(
            f"  target p95 < {TARGET_P95_MS:.0f} ms with {args.subscribers} subscribers and nothing lost: {verdict}"
        )
        print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    finally:
        await asyncio.to_thread(server.stop)
        await drop_database(name)
    return 0
