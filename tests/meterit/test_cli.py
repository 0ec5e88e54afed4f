"""The `meterit` command line against SQLite and PostgreSQL: as a real process (help, an unreachable
database) and, for the commands' own behaviour, through its main() in this process (the same code, no
interpreter start-up per command)."""

import contextlib
import io
import os
import re
import subprocess
import sys
import traceback
from unittest import mock

import pytest
from sqlalchemy import text

from meterit.cli import main


def meterit_process(*args, cwd, env=None):
    """Run `python -m meterit.cli ...` and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "meterit.cli", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def meterit(*args, cwd, env=None):
    """Run `meterit ARGS` through main() in this process, as the console script would (exit code, stdout,
    stderr; an exception that escapes main() is a traceback on stderr and exit code 1, as in a process)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), mock.patch.dict(os.environ, env or {}):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Exception:  # noqa: BLE001  (what the interpreter would print)
                traceback.print_exc()
                code = 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/central.db"
    return request.getfixturevalue("new_pg_database")()


def test_help_lists_commands(tmp_path):
    result = meterit_process("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("db", "site", "user"):
        assert command in result.stdout


def test_upgrade_then_site_create_prints_key_once_and_stores_hash(db_url, tmp_path):
    assert meterit("db", "upgrade", "central", "--database-url", db_url, cwd=tmp_path).returncode == 0
    created = meterit("site", "create", "Building A", "--database-url", db_url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = re.search(r"(mk_\S+)", created.stdout).group(1)
    dump = _dump_sites(db_url)
    assert key not in dump and "Building A" in dump
    listed = meterit("site", "list", "--database-url", db_url, cwd=tmp_path)
    assert "Building A" in listed.stdout and key not in listed.stdout


def test_existing_name_is_a_clear_error(db_url, tmp_path):
    meterit("db", "upgrade", "central", "--database-url", db_url, cwd=tmp_path)
    meterit("site", "create", "Building A", "--database-url", db_url, cwd=tmp_path)
    again = meterit("site", "create", "Building A", "--database-url", db_url, cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr and "Traceback" not in again.stderr


def test_unreachable_database_is_a_clear_error(tmp_path):
    result = meterit_process(
        "site", "list", "--database-url", "postgresql://postgres@127.0.0.1:9/none", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "cannot reach database" in result.stderr and "Traceback" not in result.stderr


def test_user_create_from_environment(db_url, tmp_path):
    meterit("db", "upgrade", "central", "--database-url", db_url, cwd=tmp_path)
    result = meterit(
        "user",
        "create",
        "ops@example.com",
        "--role",
        "admin",
        "--password-env",
        "PW",
        "--database-url",
        db_url,
        cwd=tmp_path,
        env={"PW": "correct-horse-battery"},
    )
    assert result.returncode == 0, result.stderr
    assert "ops@example.com (admin)" in result.stdout
    assert "correct-horse-battery" not in _dump_users(db_url)


def _dump(url: str, table: str) -> str:
    import asyncio

    from db.engine import make_engine

    async def _read():
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
        await engine.dispose()
        return str(rows)

    return asyncio.run(_read())


def _dump_sites(url: str) -> str:
    return _dump(url, "sites")


def _dump_users(url: str) -> str:
    return _dump(url, "users")


def test_site_allow_networks_sets_lists_and_clears(db_url, tmp_path):
    meterit("db", "upgrade", "central", "--database-url", db_url, cwd=tmp_path)
    meterit("site", "create", "Building A", "--database-url", db_url, cwd=tmp_path)
    site_id = meterit("site", "list", "--database-url", db_url, cwd=tmp_path).stdout.split()[0]
    allow = ["site", "allow-networks", site_id, "--database-url", db_url]
    result = meterit(*allow[:3], "198.51.100.0/24,2001:db8::/32", "203.0.113.9", *allow[3:], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "198.51.100.0/24, 2001:db8::/32, 203.0.113.9/32" in result.stdout
    wrong = meterit(*allow[:3], "198.51.100.7/24", *allow[3:], cwd=tmp_path)
    assert wrong.returncode == 1 and "did you mean 198.51.100.0/24" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    listed = meterit("site", "list", "--database-url", db_url, cwd=tmp_path).stdout
    assert "from 198.51.100.0/24, 2001:db8::/32, 203.0.113.9/32" in listed  # the wrong one changed nothing
    assert meterit(*allow, cwd=tmp_path).returncode == 1  # neither networks nor --any
    cleared = meterit(*allow, "--any", cwd=tmp_path)
    assert cleared.returncode == 0 and "any address" in cleared.stdout
    assert " from " not in meterit("site", "list", "--database-url", db_url, cwd=tmp_path).stdout
