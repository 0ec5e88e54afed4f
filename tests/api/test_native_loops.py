"""The API says which of central's C loops it runs in Python (a warning at start and meterit_native_loops), and
warns at start when PostgreSQL runs without autovacuum."""

import asyncio
import logging

from sqlalchemy import text

from api import app as app_module
from api import metrics
from api.app import report_autovacuum, report_native_loops
from api.ingest import decode
from db.central import energy_fold
from db.central.ingest import batch
from db.engine import make_engine, make_sessionmaker


def gauge(module: str) -> float | None:
    """meterit_native_loops{module} as this process holds it."""
    return metrics.REGISTRY.get_sample_value("meterit_native_loops", {"module": module})


def test_a_loop_without_its_c_module_is_reported(monkeypatch, caplog):
    monkeypatch.setattr(batch, "native_rows", None)
    monkeypatch.setattr(energy_fold, "native", object())  # as if built
    monkeypatch.setattr(decode, "native", None)
    with caplog.at_level(logging.WARNING, logger="api.app"):
        report_native_loops()
    assert "Python forms of its C loops (upload_rows, upload_decode)" in caplog.text
    assert (gauge("upload_rows"), gauge("fold"), gauge("upload_decode")) == (0.0, 1.0, 0.0)


def test_built_loops_are_reported_without_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(batch, "native_rows", object())
    monkeypatch.setattr(energy_fold, "native", object())
    monkeypatch.setattr(decode, "native", object())
    with caplog.at_level(logging.WARNING, logger="api.app"):
        report_native_loops()
    assert "C loops" not in caplog.text
    assert (gauge("upload_rows"), gauge("fold"), gauge("upload_decode")) == (1.0, 1.0, 1.0)


def test_the_api_warns_when_postgresql_runs_without_autovacuum(central_pg_url, caplog):
    """The warning follows the server's own setting (this machine's test server runs without it)."""
    engine = make_engine(central_pg_url)

    async def check() -> str:
        try:
            await report_autovacuum(make_sessionmaker(engine))
            async with engine.connect() as conn:
                return await conn.scalar(text("SHOW autovacuum"))
        finally:
            await engine.dispose()

    with caplog.at_level(logging.WARNING, logger="api.app"):
        setting = asyncio.run(check())
    assert ("autovacuum off" in caplog.text) == (setting == "off")


def test_no_autovacuum_warning_when_it_runs(monkeypatch, central_pg_url, caplog):
    async def runs(session) -> bool:
        return True

    monkeypatch.setattr(app_module, "autovacuum_runs", runs)
    engine = make_engine(central_pg_url)

    async def check() -> None:
        try:
            await report_autovacuum(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    with caplog.at_level(logging.WARNING, logger="api.app"):
        asyncio.run(check())
    assert "autovacuum" not in caplog.text
