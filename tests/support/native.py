"""The compiled modules (setup.py) in tests: required in CI, where a missing one means the build went wrong."""

import os

import pytest


def require_built(module, source: str):
    """module when it was built from source; fails in CI and skips elsewhere when it was not."""
    if module is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{source} is not built: `pip install -e .` found no C compiler")
        pytest.skip(f"{source} is not built here")
    return module
