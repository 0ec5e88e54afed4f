"""The API says which of central's C loops it runs in Python: a warning at start and meterit_native_loops."""

import logging

from api import metrics
from api.app import report_native_loops
from api.ingest import decode
from db.central import energy_fold
from db.central.ingest import batch


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
