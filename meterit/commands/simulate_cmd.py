"""`meterit simulate`: simulated BACnet/IP meters on loopback addresses, with a control port."""

import asyncio
import json
import signal
import sys

CONTROL_PORT = 47900


def register(subparsers) -> None:
    """Add `meterit simulate`."""
    parser = subparsers.add_parser(
        "simulate",
        help="run simulated BACnet/IP electricity meters on loopback",
        description="Run N simulated meters, one loopback address each (port 47808), with analog inputs "
        "total_kwh (rising), current_kw and, with --points up to 10, voltages, currents, power factor and "
        "frequency. A JSON-lines control port on 127.0.0.1 kills/revives/resets meters; --ctl sends one command.",
    )
    parser.add_argument("--meters", type=int, default=3, help="number of meters (default 3)")
    parser.add_argument("--base-address", default="127.0.0.10", help="address of the first meter (loopback)")
    parser.add_argument(
        "--first",
        type=int,
        default=1,
        help="number of this process's first meter when one fleet is spread over several processes: its "
        "address is --base-address + FIRST - 1, its device id and id count on alike (default 1)",
    )
    parser.add_argument("--points", type=int, default=2, help="analog inputs per meter, 1..10 (default 2)")
    parser.add_argument("--port", type=int, default=47808, help="UDP port of every meter (default 47808)")
    parser.add_argument(
        "--control-port", type=int, default=CONTROL_PORT, help="loopback TCP control port (0: none)"
    )
    parser.add_argument("--no-rpm", default="", help="comma-separated 1-based meter numbers that refuse RPM")
    parser.add_argument(
        "--bad-values",
        default="",
        help="comma-separated 1-based meter numbers whose current_kw serves NaN, +Inf, -Inf, 3.4e38 in turn",
    )
    parser.add_argument(
        "--record", metavar="FILE", help="append every served presentValue to FILE (JSON lines)"
    )
    parser.add_argument("--write-config", metavar="PATH", help="write a meters.json describing the fleet")
    parser.add_argument(
        "--energy-start", type=float, help="first value of the energy registers in kWh (default 1000)"
    )
    parser.add_argument(
        "--ctl",
        nargs="+",
        metavar="ARG",
        help="send a command to a running simulator and exit: kill|revive|reset|fault|clear_fault METER, or list",
    )
    parser.set_defaults(handler=_handle)


def _handle(args) -> int:
    if args.ctl:
        return _control(args)
    return asyncio.run(_simulate(args))


def _control(args) -> int:
    from edge_agent.simulator.control import send_command

    command = {"cmd": args.ctl[0]}
    if len(args.ctl) > 1:
        command["meter"] = args.ctl[1]
    answer = asyncio.run(send_command(args.control_port, command))
    print(json.dumps(answer, indent=2))
    return 0 if answer.get("ok") else 1


def _indexes(numbers: str, first: int, meters: int) -> set[int]:
    """Meter numbers of the whole fleet ("3,7") as indexes of this process's meters (the others dropped)."""
    wanted = {int(n) - first for n in numbers.split(",") if n.strip()}
    return {i for i in wanted if 0 <= i < meters}


async def _simulate(args) -> int:
    from edge_agent.meters import parse_meters, save_meters_file
    from edge_agent.simulator.control import serve_control
    from edge_agent.simulator.fleet import SimulatorFleet, meter_address

    no_rpm = _indexes(args.no_rpm, args.first, args.meters)
    fleet = SimulatorFleet(
        args.meters,
        args.base_address,
        points=args.points,
        port=args.port,
        no_rpm=no_rpm,
        record_file=args.record,
        bad_values=_indexes(args.bad_values, args.first, args.meters),
        energy_start=args.energy_start,
        first=args.first - 1,
    )
    await fleet.start()
    if args.write_config:
        # Written before the control port opens: whoever waits for that port finds the file ready.
        save_meters_file(args.write_config, parse_meters(fleet.meters_config()))
        print(f"wrote {args.write_config}", file=sys.stderr)
    server = await serve_control(fleet, args.control_port) if args.control_port else None
    print(
        f"simulating {args.meters} meters from {meter_address(args.base_address, args.first - 1)} port {args.port}"
        + (f"; control on 127.0.0.1:{args.control_port}" if server else "")
        + "; Ctrl-C to stop",
        file=sys.stderr,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if server:
            server.close()
        await fleet.stop()
    return 0
