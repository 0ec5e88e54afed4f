"""`meterit bench live`: upload accepted → websocket subscriber received, with 1 and with 100 subscribers.

Two API workers (`meterit api --workers 2`) on a throwaway PostgreSQL database. Subscribers speak
graphql-transport-ws with a plain `websockets` client (one process, orjson), each subscribed to
`readingsAdded` of the bench's site; connections open 20 ms apart, so both workers get some. An uploader
posts the edge's document at a steady rate, one reading per upload whose value numbers the upload; an
upload is accepted when its HTTP answer arrives. Latency = a subscriber's receipt − acceptance (negative
when the event overtook the answer); lost = (subscriber, upload) pairs never received; spread = last −
first receipt of one upload among the subscribers (the fan-out, server writes and client reads).

Baselines in the same run: a bare websocket server (bench/live_echo.py: no GraphQL, no database) that
broadcasts each "upload" to as many subscribers of the same client code, and the 1-subscriber figure;
with --compare-unshared also a server with SHARED_SUBSCRIPTIONS=false (one execution per subscriber, as
before api/realtime/fanout.py). Each phase prints the CPU it cost per upload: this bench process (the
subscribers and the uploader), the server's processes, every PostgreSQL process, the whole machine.
"""

import asyncio
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import httpx2 as httpx
import orjson
import websockets

from bench.cpu import CpuMeter
from bench.ingest import _postmaster_pid
from db.clock import utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT

TARGET_P95_MS = 20.0
ADDED = "subscription($s: ID) { readingsAdded(siteId: $s) { count latest { value } } }"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register(benches) -> None:
    """Add `bench live`."""
    parser = benches.add_parser(
        "live", help="upload → websocket subscriber latency with 1 and 100 subscribers"
    )
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--uploads", type=int, default=200, help="uploads per phase (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="uploads per second (default 20)")
    parser.add_argument(
        "--compare-unshared",
        action="store_true",
        help="also measure the subscribers on a server with SHARED_SUBSCRIPTIONS=false",
    )
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


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _phase(
    ws_url: str, token: str, site_id: int, subscribers: int, uploads: int, rate: float, upload, meter
):
    """Open the subscribers, upload at the rate (upload(n) returns when n is accepted), measure."""
    subs = [Subscriber(ws_url, token, site_id) for _ in range(subscribers)]
    for sub in subs:
        sub.task = asyncio.create_task(sub.run())
        await asyncio.sleep(0.02)
    await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subs)), 60)
    await asyncio.sleep(1.5)  # the workers announce their interest before the first upload
    accepted: dict[int, float] = {}
    meter.start()
    began = time.perf_counter()
    for n in range(1, uploads + 1):
        await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
        await upload(n)
        accepted[n] = time.perf_counter()
    await asyncio.sleep(3.0)  # stragglers
    cpu = meter.stop()
    for sub in subs:
        sub.task.cancel()
    await asyncio.gather(*(s.task for s in subs), return_exceptions=True)
    latencies = sorted(
        (sub.received[n] - at) * 1000 for sub in subs for n, at in accepted.items() if n in sub.received
    ) or [float("nan")]
    spreads = sorted(
        (max(got) - min(got)) * 1000
        for n in accepted
        if (got := [sub.received[n] for sub in subs if n in sub.received])
    ) or [float("nan")]
    return {
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "max": latencies[-1],
        "lost": sum(1 for sub in subs for n in accepted if n not in sub.received),
        "expected": subscribers * uploads,
        "spread": _percentile(spreads, 0.95),
        "cpu": cpu,
    }


def _report(label: str, r: dict, uploads: int) -> None:
    per = 1000 / uploads
    cpu = r["cpu"]
    print(
        f"  {label}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms; "
        f"lost {r['lost']} of {r['expected']}; spread p95 {r['spread']:.1f} ms\n"
        f"      CPU per upload: bench client {cpu.client * per:.1f} ms, server {cpu.server * per:.1f} ms, "
        f"PostgreSQL (all databases) {cpu.postgres * per:.1f} ms, machine {cpu.machine * per:.1f} ms",
        flush=True,
    )


async def _baseline(args) -> dict:
    """The bare websocket broadcast (bench/live_echo.py) to args.subscribers of the same client."""
    echo = subprocess.Popen(
        [sys.executable, "-m", "bench.live_echo"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(await asyncio.to_thread(echo.stdout.readline))
        url = f"ws://127.0.0.1:{port}"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as control:

            async def fire(n: int) -> None:
                await control.send(orjson.dumps({"fire": n}).decode())
                await control.recv()

            meter = CpuMeter(echo.pid, None)
            return await _phase(url, "", 0, args.subscribers, args.uploads, args.rate, fire, meter)
    finally:
        echo.terminate()
        echo.wait(10)


async def _served(args, url: str, name: str, counts: list[int], env: dict) -> list[dict]:
    """The phases of counts (subscribers each) against a fresh 2-worker server on url."""
    from tests.api.conftest import login, new_site, new_user
    from tests.support.central_server import CentralServer

    site_id, key = await new_site(url)
    email = await new_user(url, sites=(site_id,))  # a viewer granted the bench site
    server = CentralServer(
        url,
        workers=2,
        env={"RATE_LIMIT_PER_MINUTE": "1000000", **env},
        args=["--no-migrate"],
        log_path=f"/tmp/{name}.log",
        startup_timeout=120,
    )
    await asyncio.to_thread(server.start)
    try:
        token = await login(server.url, email)
        start = utcnow().replace(microsecond=0) - timedelta(hours=1)
        results = []
        async with httpx.AsyncClient(headers={"X-API-Key": key}, timeout=30) as client:
            for count in counts:
                meter_name = f"live-{uuid.uuid4().hex[:6]}"

                async def upload(n: int, meter_name=meter_name) -> None:
                    item = {
                        "meter_external_id": meter_name,
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
                    if answer.status_code != 200 or answer.json()["data"]["uploadReadings"].get("new") != 1:
                        raise RuntimeError(f"upload {n} not stored: {answer.text[:200]}")

                meter = CpuMeter(server.process.pid, await _postmaster_pid(url.replace("+asyncpg", "")))
                results.append(
                    await _phase(server.ws_url, token, site_id, count, args.uploads, args.rate, upload, meter)
                )
        return results
    finally:
        await asyncio.to_thread(server.stop)


async def run(args) -> int:
    """The baseline, then 1 and N subscribers on one server (and N on an unshared one); prints each."""
    sys.path.insert(0, REPO)
    from db.migrate import upgrade
    from tests.support.pg import create_database, drop_database

    for noisy in ("httpx", "httpx2", "alembic", "db.engine", "db.central.storage.partitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    name = f"meterit_bench_live_{os.getpid()}"
    url = await create_database(name)
    print("load average at start: {:.1f} {:.1f} {:.1f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))
    print(
        f"{args.uploads} uploads at {args.rate:g}/s per phase, one reading each; upload accepted -> received:"
    )
    try:
        await asyncio.to_thread(upgrade, "central", url)
        base = await _baseline(args)
        _report(f"baseline, bare websocket broadcast to {args.subscribers}", base, args.uploads)
        print("2 API workers on PostgreSQL:")
        one, many = await _served(args, url, name, [1, args.subscribers], {})
        _report("  1 subscriber ", one, args.uploads)
        _report(f"{args.subscribers:3d} subscribers", many, args.uploads)
        if args.compare_unshared:
            (unshared,) = await _served(
                args, url, name + "_unshared", [args.subscribers], {"SHARED_SUBSCRIPTIONS": "false"}
            )
            _report(f"{args.subscribers:3d} subscribers, SHARED_SUBSCRIPTIONS=false", unshared, args.uploads)
        verdict = "met" if many["p95"] < TARGET_P95_MS and many["lost"] == 0 else "MISSED"
        print(
            f"target p95 < {TARGET_P95_MS:.0f} ms with {args.subscribers} subscribers and nothing lost: {verdict}"
        )
        print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    finally:
        await drop_database(name)
    return 0
