"""Loopback control port of a running simulator: one JSON object per line in, one JSON answer out.

Commands: {"cmd": "kill"|"revive"|"reset"|"fault"|"clear_fault", "meter": "meter-001"},
{"cmd": "list"}, {"cmd": "served_count"}. Answers: {"ok": true, ...} or {"ok": false, "error": "..."}.
"""

import asyncio
import json
import logging

from edge_agent.simulator.fleet import SimulatorFleet

logger = logging.getLogger(__name__)


def handle_command(fleet: SimulatorFleet, command: dict) -> dict:
    """Apply one control command to the fleet and return the answer."""
    cmd = command.get("cmd")
    try:
        if cmd == "list":
            return {
                "ok": True,
                "meters": {
                    mid: {"answering": m.answering, "device_id": m.device_id}
                    for mid, m in fleet.meters.items()
                },
            }
        if cmd == "served_count":
            return {"ok": True, "served": len(fleet.served)}
        meter = command.get("meter", "")
        actions = {
            "kill": lambda: fleet.kill(meter),
            "revive": lambda: fleet.revive(meter),
            "reset": lambda: fleet.reset(meter),
            "fault": lambda: fleet.fault(meter, True),
            "clear_fault": lambda: fleet.fault(meter, False),
        }
        if cmd not in actions:
            return {"ok": False, "error": f"unknown command {cmd!r}"}
        actions[cmd]()
        return {"ok": True}
    except KeyError as err:
        return {"ok": False, "error": str(err)}


async def serve_control(fleet: SimulatorFleet, port: int, host: str = "127.0.0.1") -> asyncio.Server:
    """Start the control server on a loopback TCP port."""

    async def _client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = handle_command(fleet, json.loads(line))
                except json.JSONDecodeError:
                    answer = {"ok": False, "error": "not JSON"}
                writer.write((json.dumps(answer) + "\n").encode())
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(_client, host, port)
    logger.info("simulator control on %s:%d", host, port)
    return server


async def send_command(port: int, command: dict, host: str = "127.0.0.1") -> dict:
    """Send one command to a running simulator's control port and return its answer."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write((json.dumps(command) + "\n").encode())
        await writer.drain()
        return json.loads(await reader.readline())
    finally:
        writer.close()
