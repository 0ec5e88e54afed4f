"""The compiled parts, central's per-reading loops; the rest is in pyproject.toml.

db/central/_fold.c: the rollup fold's loops (db/central/energy_fold.py `native`); db/central/ingest/_rows.c:
an upload's rows as binary COPY data (db/central/ingest/batch.py `native_rows`); api/ingest/_readings.c: an
upload's readings array decoded (api/ingest/decode.py `native`). optional=True: where no C
compiler is found the install goes on and the same code runs in Python.
"""

from setuptools import Extension, setup

# no fused multiply-add: the figures must equal the Python forms' bit for bit
FLAGS = ["-O2", "-ffp-contract=off"]

setup(
    ext_modules=[
        Extension("db.central._fold", ["db/central/_fold.c"], extra_compile_args=FLAGS, optional=True),
        Extension(
            "api.ingest._readings", ["api/ingest/_readings.c"], extra_compile_args=FLAGS, optional=True
        ),
        Extension(
            "db.central.ingest._rows", ["db/central/ingest/_rows.c"], extra_compile_args=FLAGS, optional=True
        ),
    ]
)
