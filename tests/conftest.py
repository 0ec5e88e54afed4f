"""Shared fixtures: a throwaway PostgreSQL database per test session, SQLite files, must-run checks."""

import asyncio
import os
import uuid

import pytest

from db.clock import Clock, use_clock
from db.migrate import upgrade
from tests.support.clock import HandClock, chosen_moments, clock_for
from tests.support.energy import Db
from tests.support.pg import (
    PG_ADMIN_URL,
    create_database,
    drop_database,
    migrated_central_database,
    pg_available,
)

# Hooks: must-run tests fail CI when skipped; xdist groups for tests that hold machine-wide resources;
# the figures tests measure, in the summary.
pytest_plugins = ("tests.support.mustrun", "tests.support.parallel", "tests.support.figures")


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def db(request, tmp_path_factory):
    """A migrated central database of each dialect for the whole module (a module may define its own db)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("central_pg_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('central')}/central.db"
        upgrade("central", url)
    database = Db(url)
    yield database
    database.close()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the local PostgreSQL server, or a skip (which CI turns into a failure)."""
    if not pg_available():
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def pg_empty_url(pg_server) -> str:
    """URL of an empty database created for this test session and dropped after it."""
    name = f"meterit_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = asyncio.run(create_database(name))
    yield url
    asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def central_pg_url(pg_server) -> str:
    """A migrated central database on PostgreSQL, for this test session only."""
    yield from migrated_central_database("meterit_central")


@pytest.fixture(scope="module")
def own_central_pg_url(pg_server) -> str:
    """A migrated central database of this module's own: no server of another test runs its rollup worker on it,
    so readings a test leaves queued stay queued until the test folds them."""
    yield from migrated_central_database("meterit_own")


@pytest.fixture(scope="module")
def own_db(own_central_pg_url):
    """A Db (tests/support/energy.py: an engine on its own loop, for hypothesis tests) on own_central_pg_url."""
    with Db(own_central_pg_url) as database:
        yield database


@pytest.fixture
def new_pg_database(pg_server):
    """Factory for extra empty PostgreSQL databases, dropped after the test."""
    names = []

    def _make() -> str:
        name = f"meterit_extra_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        names.append(name)
        return asyncio.run(create_database(name))

    yield _make
    for name in names:
        asyncio.run(drop_database(name))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """URL of a fresh SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


_MOMENTS = chosen_moments()


@pytest.fixture(params=list(_MOMENTS), ids=list(_MOMENTS))
def dated_clock(request) -> Clock:
    """The process clock started at each chosen moment in turn (month end, DST days, leap day, year end …)."""
    with use_clock(clock_for(_MOMENTS[request.param])) as moved:
        yield moved


@pytest.fixture
def hand_clock(dated_clock) -> HandClock:
    """A process clock that stands still at each chosen moment in turn until the test moves it."""
    with use_clock(HandClock(dated_clock.now().replace(microsecond=0))) as hand:
        yield hand
