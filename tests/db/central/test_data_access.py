"""Sites and users data access, run on both PostgreSQL and SQLite."""

import asyncio

import pytest
from sqlalchemy import text

from db.central.models import Site
from db.central.sites import (
    SiteIdentity,
    create_site,
    find_site_by_key,
    identify_site,
    list_sites,
    rotate_site_key,
)
from db.central.users import authenticate_user, create_user
from db.engine import make_engine, make_sessionmaker, session_scope
from db.errors import AlreadyExists
from db.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def central_url(request, tmp_path):
    """A migrated central database of each dialect."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/central.db"
    else:
        url = request.getfixturevalue("new_pg_database")()
    upgrade("central", url)
    return url


def run(url, work):
    async def _run():
        engine = make_engine(url)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def test_site_key_is_stored_hashed_and_finds_its_site(central_url):
    created = run(central_url, lambda s: create_site(s, "Building A", "Europe/Berlin"))
    dump = run(central_url, lambda s: s.execute(text("SELECT * FROM sites")))
    assert created.api_key not in str(dump.all())
    found = run(central_url, lambda s: find_site_by_key(s, created.api_key))
    assert found.id == created.site.id and found.timezone == "Europe/Berlin"
    assert run(central_url, lambda s: find_site_by_key(s, created.api_key[:-1] + "x")) is None
    assert run(central_url, lambda s: find_site_by_key(s, "")) is None


def test_duplicate_site_name_is_refused(central_url):
    run(central_url, lambda s: create_site(s, "Building A"))
    with pytest.raises(AlreadyExists):
        run(central_url, lambda s: create_site(s, "Building A"))
    assert [site.name for site in run(central_url, list_sites)] == ["Building A"]


def test_rotated_key_replaces_the_old_one(central_url):
    created = run(central_url, lambda s: create_site(s, "Building B"))
    rotated = run(central_url, lambda s: rotate_site_key(s, created.site.id))
    assert run(central_url, lambda s: find_site_by_key(s, created.api_key)) is None
    assert run(central_url, lambda s: find_site_by_key(s, rotated.api_key)).id == created.site.id


def test_identify_site_answers_like_find_site_by_key(central_url):
    created = run(central_url, lambda s: create_site(s, "Building C", "America/New_York"))
    identity = run(central_url, lambda s: identify_site(s, created.api_key))
    assert identity == SiteIdentity(created.site.id, "Building C", "America/New_York", 60.0)
    for wrong in (created.api_key[:-1] + "x", "", "mk_short"):
        assert run(central_url, lambda s, key=wrong: identify_site(s, key)) is None

    async def deactivate(session):
        (await session.get(Site, created.site.id)).is_active = False

    run(central_url, deactivate)
    assert run(central_url, lambda s: identify_site(s, created.api_key)) is None


def test_users_are_argon2_hashed_and_authenticate(central_url):
    run(central_url, lambda s: create_user(s, "Ops@Example.com", "s3cret-password", "admin"))
    stored = run(central_url, lambda s: s.scalar(text("SELECT password_hash FROM users")))
    assert stored.startswith("$argon2id$")
    user = run(central_url, lambda s: authenticate_user(s, "ops@example.com", "s3cret-password"))
    assert user.role == "admin"
    assert run(central_url, lambda s: authenticate_user(s, "ops@example.com", "wrong-password")) is None
    with pytest.raises(AlreadyExists):
        run(central_url, lambda s: create_user(s, "ops@example.com", "another-password"))
    with pytest.raises(ValueError):
        run(central_url, lambda s: create_user(s, "x@example.com", "short"))
