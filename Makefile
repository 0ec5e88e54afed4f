# The two commands of the README's quick start, plus helpers. Every target bootstraps what it needs:
# demo the venv and bun (for the dashboards), test also Debian chromium (for the browser tests).
.PHONY: demo test bootstrap bootstrap-test lint

demo: bootstrap
	.venv/bin/meterit demo

# The suite runs on TEST_WORKERS pytest-xdist workers; tests holding one machine-wide resource (fixed loopback
# addresses, a module's server or dashboard) share an xdist group, run one after another (tests/support/parallel.py).
TEST_WORKERS ?= 3

test: bootstrap-test
	scripts/ensure_postgres.sh
	.venv/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bootstrap:
	scripts/bootstrap.sh $(BOOTSTRAP_ARGS)

bootstrap-test:
	scripts/bootstrap.sh --with-browser $(BOOTSTRAP_ARGS)

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
