"""Login figures: unknown vs known e-mail answer time, and /healthz latency during a wrong-password flood.

    .venv/bin/python -m bench.login_flood        (needs PostgreSQL at 127.0.0.1:5432; prints figures)

Baseline before issue 19: unknown e-mail 1.8 ms vs known 158 ms; /healthz 5 ms idle, 420 ms in a flood.
"""

import asyncio
import statistics
import time

import httpx

from db.central.users import create_user
from tests.api.conftest import in_session
from tests.support.central_server import CentralServer
from tests.support.pg import migrated_central_database

LOGIN = 'mutation { login(email: "%s", password: "wrong password") { __typename } }'
ENV = {
    "TRUSTED_PROXIES": "127.0.0.1/32",
    "LOGIN_FREE_FAILURES": "1000",
    "LOGIN_LOCK_FAILURES": "2000",
    "LOGIN_ADDRESS_FREE_FAILURES": "1000",
    "LOGIN_ADDRESS_LOCK_FAILURES": "2000",
}


async def timed_login(client: httpx.AsyncClient, url: str, email: str, n: int) -> float:
    """Milliseconds for one failed login from its own address."""
    started = time.perf_counter()
    await client.post(url, json={"query": LOGIN % email}, headers={"X-Forwarded-For": f"203.0.113.{n % 250}"})
    return (time.perf_counter() - started) * 1000


async def healthz_ms(client: httpx.AsyncClient, base: str, count: int) -> list[float]:
    """Latencies of count sequential /healthz calls."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        await client.get(base + "/healthz")
        out.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    return out


async def measure(server: CentralServer) -> None:
    """Print the figures."""
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(3):  # warm-up (the dummy hash is made on first use)
            await timed_login(client, server.url, "nobody@example.com", 0)
        known = [await timed_login(client, server.url, "known@example.com", n) for n in range(20)]
        unknown = [await timed_login(client, server.url, f"nobody{n}@example.com", n) for n in range(20)]
        print(f"login known e-mail wrong password: median {statistics.median(known):.1f} ms")
        print(f"login unknown e-mail:              median {statistics.median(unknown):.1f} ms")
        idle = await healthz_ms(client, server.base_url, 20)
        flood = [
            asyncio.create_task(timed_login(client, server.url, "known@example.com", n)) for n in range(60)
        ]
        busy = await healthz_ms(client, server.base_url, 20)
        await asyncio.gather(*flood)
        print(f"/healthz idle: median {statistics.median(idle):.1f} ms")
        print(
            f"/healthz during 60 concurrent failed logins: median {statistics.median(busy):.1f} ms, "
            f"max {max(busy):.1f} ms"
        )


def main() -> None:
    """Run the measurement on a throwaway database."""
    databases = migrated_central_database("meterit_bench_login")
    url = next(databases)
    try:
        asyncio.run(
            in_session(url, lambda s: create_user(s, "known@example.com", "the right password", "viewer"))
        )
        with CentralServer(url, env=ENV, args=["--no-migrate"]) as server:
            asyncio.run(measure(server))
    finally:
        next(databases, None)


if __name__ == "__main__":
    main()
