"""`meterit simulate` (a real subprocess with its control port) and `meterit edge discover|poll|status` (block 42)."""

import json
import socket
import subprocess
import sys
import time

import pytest

from meterit.cli import main
from tests.support.central_server import REPO_ROOT

BLOCK = 42


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def simulator(tmp_path):
    """`meterit simulate --meters 3` on 127.0.42.10-12 with a control port and a served-values record."""
    port = _free_port()
    record = tmp_path / "served.jsonl"
    command = [
        sys.executable,
        "-m",
        "meterit.cli",
        "simulate",
        "--meters",
        "3",
        "--base-address",
        f"127.0.{BLOCK}.10",
    ]
    command += [
        "--control-port",
        str(port),
        "--record",
        str(record),
        "--write-config",
        str(tmp_path / "meters.json"),
    ]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "simulator did not start"
            time.sleep(0.2)
    yield port, record
    process.terminate()
    process.wait(10)


@pytest.fixture
def edge_env(tmp_path, monkeypatch):
    """Edge settings for the CLI: BACnet at 127.0.42.1:47809, a SQLite file, the simulator's meters.json."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACNET_INTERFACE", f"127.0.{BLOCK}.1/8")
    # Not the meters' 47808: bacpypes3 takes any 127.x on its own port for itself.
    monkeypatch.setenv("BACNET_PORT", "47809")
    monkeypatch.setenv("BACNET_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "edge.db"))
    monkeypatch.setenv("METERS_FILE", str(tmp_path / "meters.json"))
    return tmp_path


def _json_out(capsys) -> object:
    return json.loads(capsys.readouterr().out)


def test_simulate_control_discover_poll_status(simulator, edge_env, capsys):
    port, record = simulator
    assert main(["simulate", "--control-port", str(port), "--ctl", "kill", "meter-002"]) == 0
    capsys.readouterr()

    assert main(["edge", "discover", "--range", f"127.0.{BLOCK}.9-13", "--write", "found.json"]) == 0
    devices = _json_out(capsys)
    assert sorted(d["device_id"] for d in devices) == [100001, 100003]
    found = json.loads((edge_env / "found.json").read_text())["meters"]
    assert [p["unit"] for p in found[0]["data_points"]] == ["kilowatt-hours", "kilowatts"]

    assert main(["edge", "poll"]) == 0
    polled = _json_out(capsys)
    assert (polled["poll"]["meters_ok"], polled["poll"]["meters_failed"], polled["poll"]["values"]) == (
        2,
        1,
        4,
    )

    assert main(["simulate", "--control-port", str(port), "--ctl", "revive", "meter-002"]) == 0
    assert main(["simulate", "--control-port", str(port), "--ctl", "nonsense"]) == 1
    capsys.readouterr()
    assert main(["edge", "poll"]) == 0
    assert _json_out(capsys)["poll"]["meters_ok"] == 3

    assert main(["edge", "status"]) == 0
    assert _json_out(capsys)["queue_depth"] == 10

    served = [json.loads(line) for line in record.read_text().splitlines()]
    assert {(s["device_id"], s["point"]) for s in served} >= {(100002, "total_kwh"), (100003, "current_kw")}
