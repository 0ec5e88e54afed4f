"""The CSV export streams exactly what the readings query returns, raw and rolled up, behind the API's auth."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.app import create_app
from api.auth import issue_token
from api.services.access import ADMIN
from api.services.export import COLUMNS
from api.services.readings import readings
from api.settings import CentralSettings
from db.central.grants import set_grant
from db.central.models import DataPoint, Meter
from db.central.users import create_user
from db.engine import session_scope
from tests.support.energy import Db, ingest, make_point

# Fixed past days across Berlin's October change (the bucket counts depend on it); nothing here reads the clock.
START = datetime(2026, 10, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def setup(central_pg_url):
    """A point with 12,500 one-minute readings (more than one export page), a token and the app."""
    db = Db(central_pg_url)
    point = db.run(make_point(db, timezone="Europe/Berlin"))
    rows = [(START + timedelta(minutes=n), 100.0 + n * 0.25, n % 7 == 0) for n in range(12_500)]
    db.run(ingest(db, point, [(ts, v, int(q)) for ts, v, q in rows]))
    settings = CentralSettings(database_url=central_pg_url)

    async def _user_and_meter():
        async with session_scope(db.sessions) as session:
            user = await create_user(
                session, f"exp-{uuid.uuid4().hex[:6]}@example.com", "long password 1", "viewer"
            )
            meter_id = (await session.get(DataPoint, point)).meter_id
            await set_grant(session, user.id, (await session.get(Meter, meter_id)).site_id, "viewer")
            return issue_token(settings, user)[0], meter_id

    token, meter_id = db.run(_user_and_meter())
    yield db, point, meter_id, token, create_app(settings)
    db.close()


async def _query_all(db: Db, meter_id: int, resolution: str) -> list[list[str]]:
    """What the readings query (GraphQL, MCP) answers, page by page, as CSV cells."""
    rows, after = [], None
    while True:
        async with session_scope(db.sessions) as session:
            page, after = await readings(
                session, meter_id, "total_kwh", START, START + timedelta(days=10), resolution, 1000, after,
                scope=ADMIN,
            )  # fmt: skip
        rows += [
            [
                r.ts.isoformat(),
                *("" if c is None else str(c) for c in (getattr(r, f, None) for f in COLUMNS[1:])),
            ]
            for r in page
        ]
        if after is None:
            return rows


async def _export(app, token: str | None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/export/readings.csv", params=params, headers=headers)


@pytest.mark.parametrize("resolution", ["RAW", "HOUR", "DAY"])
def test_export_matches_the_query(setup, resolution):
    db, point, meter_id, token, app = setup
    params = {
        "meterId": meter_id,
        "point": "total_kwh",
        "start": START.isoformat(),
        "end": (START + timedelta(days=10)).isoformat(),
        "resolution": resolution,
    }
    response = db.run(_export(app, token, **params))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == list(COLUMNS)
    expected = db.run(_query_all(db, meter_id, resolution.lower()))
    assert table[1:] == expected
    assert len(expected) == {"RAW": 12_500, "HOUR": 209, "DAY": 9}[resolution]
    if resolution != "RAW":  # a kWh register's buckets are its consumption, adding up to the register's rise
        used = sum(float(row[1]) for row in table[1:])
        assert used == pytest.approx(12_499 * 0.25)
        assert all(row[1] == row[COLUMNS.index("consumption")] for row in table[1:])


def test_export_needs_a_token_and_a_valid_query(setup):
    db, _, meter_id, token, app = setup
    good = {"meterId": meter_id, "point": "total_kwh", "start": START.isoformat(), "end": START.isoformat()}
    assert db.run(_export(app, None, **good)).status_code == 401
    assert db.run(_export(app, "not-a-token", **good)).status_code == 401
    assert db.run(_export(app, token, **{**good, "point": "nope"})).status_code == 404
    bad = db.run(_export(app, token, **good))  # end == start
    assert bad.status_code == 400 and "end" in bad.text
