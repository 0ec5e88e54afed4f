"""bench edge-poll's simulators: how many processes, and which meters each one serves."""

import subprocess

from bench import edge_rig


def test_one_simulator_per_250_meters_unless_told():
    assert [edge_rig.simulator_count(n) for n in (1, 100, 250, 251, 1000)] == [1, 1, 1, 2, 4]
    assert edge_rig.simulator_count(100, 3) == 3 and edge_rig.simulator_count(2, 8) == 2


def test_the_processes_share_the_fleet_without_gaps(monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda command, **_kw: started.append(command))
    edge_rig.spawn_simulators("127.61.0.10", 1001, 10, 4)

    def option(command, name):
        return int(command[command.index(name) + 1])

    slices = [(option(c, "--first"), option(c, "--meters")) for c in started]
    assert slices == [(1, 251), (252, 250), (502, 250), (752, 250)]
    assert all(c[c.index("--base-address") + 1] == "127.61.0.10" for c in started)
