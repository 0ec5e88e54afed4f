"""`meterit edge`: run the on-site agent, or one step of it (discover, poll, sync, status)."""

import argparse
import asyncio
import json
import logging
import signal
import sys

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add `meterit edge [run|discover|poll|sync|status]`."""
    parser = subparsers.add_parser(
        "edge",
        help="run the on-site edge agent (BACnet collection, outbox, upload to central)",
        description="Run the edge agent (default), or one step of it. Settings come from the environment "
        "and .env (see edge_agent/.env.example).",
    )
    parser.set_defaults(handler=_run, edge_action="run")
    parser.add_argument(
        "--no-local-api", action="store_true", help="do not serve the local API (LOCAL_API_PORT)"
    )
    actions = parser.add_subparsers(dest="edge_action", metavar="ACTION")
    actions.add_parser("run", help="run everything until stopped (the default)").set_defaults(handler=_run)
    discover = actions.add_parser(
        "discover",
        help="find BACnet devices: unicast Who-Is to a range, else to known meters plus a broadcast Who-Is",
    )
    discover.add_argument(
        "--range",
        help="e.g. 127.0.0.10-127.0.0.20 (unicast Who-Is to each); default: the configured meters' "
        "addresses and a broadcast to BACNET_BROADCAST_ADDRESS:47808",
    )
    discover.add_argument(
        "--broadcast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also (or not) send a Who-Is to BACNET_BROADCAST_ADDRESS (default: only without --range)",
    )
    discover.add_argument("--instances", metavar="LOW-HIGH", help="only device instances in this range")
    discover.add_argument(
        "--network",
        type=int,
        metavar="N",
        help="also a Who-Is to every device of BACnet network N (via its router)",
    )
    discover.add_argument("--write", metavar="PATH", help="write a starting meters.json there")
    discover.set_defaults(handler=_discover)
    actions.add_parser(
        "poll", help="poll every meter once into the outbox and print the result"
    ).set_defaults(handler=_poll)
    actions.add_parser("sync", help="upload the outbox to central once and print the result").set_defaults(
        handler=_sync
    )
    actions.add_parser("status", help="print the agent's status as JSON").set_defaults(handler=_status)
    actions.add_parser(
        "local-password",
        help="make a new local API password (printed once; a running agent takes it, its tokens end)",
    ).set_defaults(handler=_local_password)


def _agent(**kwargs):
    from edge_agent.service import EdgeAgent

    return EdgeAgent(**kwargs)


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str))


def _password_file(settings):
    """The local password's hash file, generated (and the password printed once) at the first start."""
    from pathlib import Path

    from edge_agent.local_password import ensure_password

    path = Path(settings.local_api_password_file)
    created = ensure_password(path)
    if created:
        print(_password_banner(created, path), flush=True)
    return path


def _password_banner(password: str, path) -> str:
    return (
        f"edge local API password (shown once, stored hashed in {path}): {password}\n"
        "  the on-site dashboard and `meterit mcp edge` (LOCAL_API_PASSWORD) ask for it; "
        "`meterit edge local-password` makes a new one"
    )


def _local_password(args) -> int:
    from pathlib import Path

    from edge_agent.local_password import new_password
    from edge_agent.settings import EdgeSettings

    settings = EdgeSettings()
    if settings.local_api_password:
        print("LOCAL_API_PASSWORD is set: change it there (this command manages the generated one)")
        return 1
    path = Path(settings.local_api_password_file)
    print(_password_banner(new_password(path), path))
    return 0


def _run(args) -> int:
    from edge_agent.memory import (
        freeze_startup_objects,
        keep_out_unused_modules,
        limit_arenas,
        release_free_memory,
    )

    keep_out_unused_modules()  # before the libraries that would import them
    from edge_agent.logs import setup_file_logging
    from edge_agent.metrics import serve_metrics
    from edge_agent.settings import EdgeSettings

    limit_arenas()  # before the first thread (metrics server, the database's worker threads)
    settings = EdgeSettings()
    setup_file_logging(
        settings.log_dir,
        settings.log_level,
        settings.log_max_bytes,
        settings.log_backup_count,
        settings.log_max_age_days,
    )
    if settings.metrics_port:
        serve_metrics(settings.metrics_host, settings.metrics_port)

    async def main() -> None:
        agent = _agent(settings=settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await agent.start()
        local_api = None
        if not getattr(args, "no_local_api", False):
            from edge_agent.local_api import LocalApiServer

            s = settings
            password_file = None if s.local_api_password else _password_file(s)
            local_api = LocalApiServer(
                agent,
                s.local_api_host,
                s.local_api_port,
                s.local_api_password,
                allowed_hosts=tuple(n.strip() for n in s.local_api_allowed_hosts.split(",") if n.strip()),
                password_file=password_file,
            )
            await local_api.start()
        freeze_startup_objects()
        release_free_memory()
        try:
            await stop.wait()
        finally:
            logger.info("edge agent stopping")
            if local_api:
                await local_api.stop()
            await agent.stop()

    asyncio.run(main())
    return 0


def _discover(args) -> int:
    from edge_agent.discovery import to_meter_configs
    from edge_agent.meters import save_meters_file

    low = high = None
    if args.instances:
        try:
            low, high = (int(part) for part in args.instances.split("-"))
        except ValueError:
            print(
                f"--instances must be LOW-HIGH, e.g. 100000-100999, not {args.instances!r}", file=sys.stderr
            )
            return 2

    async def main():
        agent = _agent(collect=False, upload=False)
        await agent.start(loops_on=False)
        try:
            return await agent.discover_devices(args.range, low, high, args.broadcast, args.network)
        finally:
            await agent.stop()

    devices = asyncio.run(main())
    _print_json([d.model_dump() for d in devices])
    if args.write:
        save_meters_file(args.write, to_meter_configs(devices))
        print(f"wrote {len(devices)} meters to {args.write}", file=sys.stderr)
    return 0 if devices else 1


def _poll(args) -> int:
    async def main():
        agent = _agent(collect=False, upload=False)
        await agent.start(loops_on=False)
        try:
            result = await agent.poll_now()
            return {"poll": result.__dict__, "meters": [m.model_dump() for m in await agent.meters()]}
        finally:
            await agent.stop()

    _print_json(asyncio.run(main()))
    return 0


def _sync(args) -> int:
    async def main():
        agent = _agent(collect=False)
        await agent.start(bacnet=False, loops_on=False)
        try:
            return await agent.trigger_sync()
        finally:
            await agent.stop()

    summary = asyncio.run(main())
    _print_json(summary.model_dump())
    return 0 if summary.outcome == "ok" else 1


def _status(args) -> int:
    async def main():
        agent = _agent(collect=False, upload=False)
        await agent.start(bacnet=False, loops_on=False)
        try:
            return await agent.status()
        finally:
            await agent.stop()

    _print_json(asyncio.run(main()).model_dump())
    return 0
