"""`make demo` installs the venv and bun only; `make test` adds Debian chromium (a dry run in a fresh copy)."""

import shutil
import subprocess

import pytest

from tests.support.central_server import REPO_ROOT

SCRIPTS = ("bootstrap.sh", "install_ui_tools.sh", "install_browser.sh", "apt_install.sh")
# what scripts/bootstrap.sh hashes to decide whether to install again (setup.py builds the C modules)
INSTALL_INPUTS = ("Makefile", "pyproject.toml", "setup.py", "db/central/_fold.c", "db/central/ingest/_rows.c")


@pytest.fixture
def fresh_checkout(tmp_path):
    """The Makefile, the install's inputs and scripts in a directory without .venv and .tools."""
    (tmp_path / "scripts").mkdir()
    for name in SCRIPTS:
        shutil.copy2(REPO_ROOT / "scripts" / name, tmp_path / "scripts" / name)
    for name in INSTALL_INPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def make(root, *args) -> str:
    """Output of `make -s ARGS BOOTSTRAP_ARGS=--dry-run` in root."""
    result = subprocess.run(
        ["make", "-s", "-C", str(root), *args, "BOOTSTRAP_ARGS=--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_bootstrap_installs_venv_and_bun_without_a_browser(fresh_checkout):
    planned = make(fresh_checkout, "bootstrap")
    assert "would run: python3 -m venv" in planned
    assert "pip install --quiet -e" in planned
    assert "installing bun" in planned
    assert "chromium" not in planned and "install_browser" not in planned
    assert not (fresh_checkout / ".venv").exists() and not (fresh_checkout / ".tools").exists()


def test_test_bootstrap_adds_the_browser(fresh_checkout):
    planned = make(fresh_checkout, "bootstrap-test")
    assert "installing bun" in planned
    assert "install_browser:" in planned and "chromium" in planned


def test_demo_target_runs_the_bootstrap_without_browser():
    demo = subprocess.run(["make", "-n", "-C", str(REPO_ROOT), "demo"], capture_output=True, text=True)
    test = subprocess.run(["make", "-n", "-C", str(REPO_ROOT), "test"], capture_output=True, text=True)
    assert "scripts/bootstrap.sh" in demo.stdout and "--with-browser" not in demo.stdout
    assert "scripts/bootstrap.sh --with-browser" in test.stdout
