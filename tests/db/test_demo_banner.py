"""The demo banner's commands run as printed from the checkout (after `make demo`, meterit is not on PATH)."""

import shlex
import subprocess
from pathlib import Path

from api.alerts.mailsink import LocalMailSink
from meterit.demo import DemoPlan, banner, cli_command


def test_banner_commands_run_as_printed(tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # as after `make demo`: the venv is not activated
    text = banner(DemoPlan(data_dir=tmp_path), LocalMailSink(tmp_path / "mail"))
    assert cli_command().endswith(".venv/bin/meterit")  # relative in a checkout; absolute in a worktree
    kill = next(line for line in text.splitlines() if "kill a meter:" in line).split(":", 1)[1].strip()
    argv = shlex.split(kill)
    assert argv[:2] == [cli_command(), "simulate"]
    result = subprocess.run([argv[0], "simulate", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--control-port" in result.stdout
    assert "log in with the bar" in text  # GraphiQL's way in
