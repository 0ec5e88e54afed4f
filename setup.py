"""The one compiled part: the fold's per-reading loops (db/central/_fold.c); the rest is in pyproject.toml.

optional=True: where no C compiler is found the install goes on and the fold runs its Python forms
(db/central/energy_fold.py says which runs).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "db.central._fold",
            sources=["db/central/_fold.c"],
            # no fused multiply-add: the figures must equal the Python forms' bit for bit
            extra_compile_args=["-O2", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
