# The two commands of the README's quick start, plus helpers. Every target bootstraps what it needs.
.PHONY: demo test bootstrap lint

demo: bootstrap
	.venv/bin/meterit demo

test: bootstrap
	scripts/ensure_postgres.sh
	.venv/bin/pytest $(PYTEST_ARGS)

bootstrap:
	scripts/bootstrap.sh

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
